"""The staff console (bot/staff/): log-in with argon2 hashes and server-side sessions, CSRF on every form,
lock-out, the case queue by branch and role, English and Arabic (right-to-left). Through the real ASGI
app on both databases. (Browser tests in headless Chromium come with the console's next pages.)"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from actions.complaints.service import open_complaint
from bot.staff import auth
from bot.web import create_app
from db.models import Branch, StaffSession, StaffUser
from dealerbot.bootstrap import App, compose
from tests.factories import make_customer, make_vehicle
from tests.fakes import FakeNlu
from tests.test_scheduler import link, outbound, twilio_server  # noqa: F401 - twilio_server is a fixture
from tests.twilio_standin import TwilioStandIn

PASSWORD = "correct horse battery"


def branch_id(app: App, code: str) -> int:
    with app.transaction() as session:
        return session.scalar(select(Branch.id).where(Branch.code == code))


def staff(app: App, username: str, role: str, branch: str | None = None) -> None:
    with app.transaction() as session:
        auth.add_staff(session, username, role, PASSWORD, app.clock.now(), branch)


def complaint_at(app: App, branch: str, name: str, description: str = "The AC blows warm air") -> str:
    """A complaint about a car sold by `branch`; its ticket."""
    with app.transaction() as session:
        now = app.clock.now()
        owner = make_customer(session, now, name=name)
        car = make_vehicle(session, now, owner)
        car.sold_by_branch_id = session.scalar(select(Branch.id).where(Branch.code == branch))
        session.flush()
        return open_complaint(session, now, tz=app.settings.tz, response_hours=24, customer_id=owner.id,
                              vehicle_id=car.id, category="service", description=description).ticket_id


@pytest.fixture
async def client(demo_app: App) -> AsyncIterator[httpx.AsyncClient]:
    web = create_app(compose(demo_app, nlu=FakeNlu(), channels=[]))
    async with web.router.lifespan_context(web):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(web), base_url="http://testserver") as c:
            yield c


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


async def log_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/staff/login")
    return await client.post("/staff/login", data={"username": username, "password": password,
                                                    "csrf_token": csrf_of(form)})


async def test_nothing_answers_without_a_session(client: httpx.AsyncClient) -> None:
    for path in ("/staff/", "/staff", "/staff/tickets/C-1", "/staff/anything"):
        response = await client.get(path, follow_redirects=True)
        assert response.url.path == "/staff/login" and 'name="password"' in response.text, path
    assert (await client.post("/staff/tickets/C-1/answer", data={"text": "hi"})).status_code == 403
    assert (await client.post("/staff/logout", data={})).headers["location"] == "/staff/login"


async def test_log_in_sees_the_queue_and_log_out_ends_the_session(demo_app: App, client: httpx.AsyncClient) -> None:
    staff(demo_app, "mona", "manager")
    ticket = complaint_at(demo_app, "dubai", "Queue Person")
    response = await log_in(client, "Mona")  # user names are not case-sensitive
    assert response.status_code == 303 and response.headers["location"] == "/staff/"
    cookie = response.headers["set-cookie"]
    assert "staff_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    page = await client.get("/staff/")
    assert page.status_code == 200 and ticket in page.text and "Queue Person" in page.text
    with demo_app.transaction() as session:  # the table holds the token's hash, not the token
        token = client.cookies.get("staff_session")
        assert session.scalar(select(StaffSession.token_hash)) != token
    logout = await client.post("/staff/logout", data={"csrf_token": csrf_of(page)})
    assert logout.headers["location"] == "/staff/login"
    client.cookies.set("staff_session", token, path="/staff")  # the old token is dead
    assert (await client.get("/staff/")).headers["location"] == "/staff/login"


async def test_a_form_without_the_right_csrf_token_is_refused(demo_app: App, client: httpx.AsyncClient) -> None:
    staff(demo_app, "omar", "manager")
    await client.get("/staff/login")
    forged = await client.post("/staff/login", data={"username": "omar", "password": PASSWORD, "csrf_token": "x"})
    assert forged.status_code == 403 and "staff_session" not in forged.headers.get("set-cookie", "")
    assert (await log_in(client, "omar")).status_code == 303
    page = await client.get("/staff/")
    assert (await client.post("/staff/logout", data={"csrf_token": "wrong"})).status_code == 403
    assert (await client.get("/staff/")).status_code == 200  # still signed in: nothing was done
    assert csrf_of(page)


async def test_wrong_passwords_lock_the_account_for_a_while(demo_app: App, client: httpx.AsyncClient) -> None:
    staff(demo_app, "sara", "manager")
    unknown = await log_in(client, "nobody", "whatever-it-is")
    wrong = await log_in(client, "sara", "not the password")
    assert unknown.status_code == wrong.status_code == 401 and unknown.text.count("wrong") == wrong.text.count("wrong")
    for _ in range(auth.MAX_FAILURES - 1):
        response = await log_in(client, "sara", "not the password")
    assert response.status_code == 429 and "locked" in response.text
    assert (await log_in(client, "sara")).status_code == 429  # the right password waits too
    demo_app.clock.advance(auth.LOCKOUT + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert (await log_in(client, "sara")).status_code == 303


async def test_an_advisor_sees_their_branch_and_a_manager_every_branch(demo_app: App, client: httpx.AsyncClient) -> None:
    staff(demo_app, "adil", "advisor", "dubai")
    staff(demo_app, "maha", "manager")
    in_dubai = complaint_at(demo_app, "dubai", "Dubai Owner")
    in_sharjah = complaint_at(demo_app, "sharjah", "Sharjah Owner", "The brakes failed on the highway")
    await log_in(client, "adil")
    page = (await client.get("/staff/")).text
    assert in_dubai in page and in_sharjah not in page
    assert in_sharjah not in (await client.get(f"/staff/?branch={branch_id(demo_app, 'sharjah')}")).text
    client.cookies.clear()
    await log_in(client, "maha")
    page = (await client.get("/staff/")).text
    assert in_dubai in page and in_sharjah in page
    assert page.index(in_sharjah) < page.index(in_dubai)  # the safety complaint's deadline is sooner
    only_safety = (await client.get("/staff/?urgency=safety")).text
    assert in_sharjah in only_safety and in_dubai not in only_safety


async def test_a_breached_deadline_shows_in_red_and_the_arabic_page_is_right_to_left(
        demo_app: App, client: httpx.AsyncClient) -> None:
    staff(demo_app, "hind", "manager")
    ticket = complaint_at(demo_app, "dubai", "Late Case")
    demo_app.clock.advance(timedelta(days=3))  # type: ignore[attr-defined]
    await log_in(client, "hind")
    page = (await client.get("/staff/")).text
    row = re.search(rf'<tr class="breached" data-ticket="{ticket}">.*?</tr>', page, re.S)
    assert row is not None and "overdue by" in row.group(0)
    arabic = (await client.get("/staff/?lang=ar")).text
    assert '<html lang="ar" dir="rtl">' in arabic and "متأخر بمقدار" in arabic
    assert '<html lang="ar" dir="rtl">' in (await client.get("/staff/")).text  # the choice is kept


def test_staff_add_makes_an_account_from_the_command_line(demo_url: str) -> None:
    env = {"DATABASE_URL": demo_url, "PATH": "/usr/bin:/bin"}
    dealerbot = str(Path(sys.executable).with_name("dealerbot"))
    made = subprocess.run([dealerbot, "staff", "add", "--username", "cli.user", "--role", "advisor", "--branch",
                           "sharjah", "--password-stdin"], input=f"{PASSWORD}\n", capture_output=True, text=True,
                          env=env, timeout=60)
    assert made.returncode == 0, made.stderr
    again = subprocess.run([dealerbot, "staff", "add", "--username", "cli.user", "--role", "advisor", "--branch",
                            "sharjah", "--password-stdin"], input=f"{PASSWORD}\n", capture_output=True, text=True,
                           env=env, timeout=60)
    assert again.returncode == 2 and "exists already" in again.stderr
    short = subprocess.run([dealerbot, "staff", "add", "--username", "x", "--role", "manager", "--password-stdin"],
                           input="short\n", capture_output=True, text=True, env=env, timeout=60)
    assert short.returncode == 2 and "at least" in short.stderr
    from db.engine import make_engine
    from sqlalchemy.orm import Session

    engine = make_engine(demo_url)
    with Session(engine) as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == "cli.user"))
        assert user is not None and user.role == "advisor" and user.password_hash.startswith("$argon2id$")
        session.delete(user)
        session.commit()
    engine.dispose()


# --- a ticket ----------------------------------------------------------------------------------------------


async def test_a_ticket_shows_the_case_and_takes_a_status_an_assignee_and_a_note(
        demo_app: App, client: httpx.AsyncClient) -> None:
    staff(demo_app, "rana", "advisor", "dubai")
    ticket = complaint_at(demo_app, "dubai", "Ticket Owner", "Rattling noise from the dashboard since the service")
    await log_in(client, "rana")
    page = await client.get(f"/staff/tickets/{ticket}")
    assert page.status_code == 200 and "Rattling noise from the dashboard" in page.text and "Ticket Owner" in page.text
    csrf = csrf_of(page)
    with demo_app.transaction() as session:
        rana = session.scalar(select(StaffUser.id).where(StaffUser.username == "rana"))
    changed = await client.post(f"/staff/tickets/{ticket}/status", data={"status": "in_progress", "csrf_token": csrf})
    assert changed.status_code == 200 and '<strong id="status">in_progress</strong>' in changed.text
    assigned = await client.post(f"/staff/tickets/{ticket}/assign", data={"staff_user_id": str(rana), "csrf_token": csrf})
    assert assigned.status_code == 200 and "Assigned to: rana" in assigned.text
    noted = await client.post(f"/staff/tickets/{ticket}/note", data={"body": "Called the customer, booked a check.",
                                                                     "csrf_token": csrf})
    assert 'class="internal"' in noted.text and "Called the customer, booked a check." in noted.text
    bad = await client.post(f"/staff/tickets/{ticket}/status", data={"status": "teleported", "csrf_token": csrf})
    assert bad.status_code == 400 and "not a status" in bad.text
    forged = await client.post(f"/staff/tickets/{ticket}/note", data={"body": "forged", "csrf_token": "nope"})
    assert forged.status_code == 403 and "forged" not in (await client.get(f"/staff/tickets/{ticket}")).text
    with demo_app.transaction() as session:
        from actions.complaints.casework import find_case

        case = find_case(session, ticket)
        assert case.status == "in_progress" and case.assigned_staff_id == rana and case.acknowledged_at is not None


async def test_another_branchs_ticket_and_an_unknown_one_are_refused(demo_app: App, client: httpx.AsyncClient) -> None:
    staff(demo_app, "badr", "advisor", "dubai")
    elsewhere = complaint_at(demo_app, "sharjah", "Sharjah Owner")
    await log_in(client, "badr")
    page = await client.get(f"/staff/tickets/{elsewhere}")
    assert page.status_code == 403 and "Sharjah Owner" not in page.text
    csrf = csrf_of(await client.get("/staff/"))
    answer = await client.post(f"/staff/tickets/{elsewhere}/answer", data={"body": "hello", "csrf_token": csrf})
    assert answer.status_code == 403
    assert (await client.get("/staff/tickets/C-999999")).status_code == 404
    with demo_app.transaction() as session:
        from actions.complaints.casework import find_case, notes

        assert notes(session, find_case(session, elsewhere)) == []


async def test_an_answer_reaches_the_customers_telegram_and_shows_in_the_transcript(
        live_app: App, twilio_server: TwilioStandIn) -> None:
    """A complaint made in chat, answered in the console: the dispatcher sends it to the customer's Telegram
    (the Bot API stand-in), the case is answered, and the ticket page shows the answer in the transcript."""
    staff(live_app, "nadia", "manager")
    with live_app.transaction() as session:
        owner = make_customer(session, live_app.clock.now(), name="Chat Customer")
        owner_id = owner.id
    link(live_app, owner_id, "telegram", "5550101", timedelta(minutes=5))
    with live_app.transaction() as session:
        ticket = open_complaint(session, live_app.clock.now(), tz=live_app.settings.tz, response_hours=24,
                                customer_id=owner_id, vehicle_id=None, category="service",
                                description="Nobody called me back about my car").ticket_id
    web = create_app(compose(live_app, nlu=FakeNlu(), channels=[]))
    async with web.router.lifespan_context(web):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(web), base_url="http://testserver") as c:
            await log_in(c, "nadia")
            page = await c.get(f"/staff/tickets/{ticket}")
            sent = await c.post(f"/staff/tickets/{ticket}/answer",
                                data={"body": "Sorry! Your advisor will call you at 10:00 tomorrow.",
                                      "csrf_token": csrf_of(page)})
            assert sent.status_code == 200 and "on its way" in sent.text
            async with outbound(live_app, twilio_server) as out:
                result = await out.dispatch()
                texts = out.telegram.texts(5550101)
            assert result["sent"] >= 1
            assert any(ticket in t and "Your advisor will call you at 10:00 tomorrow." in t for t in texts), texts
            after = await c.get(f"/staff/tickets/{ticket}")
            assert 'class="out"' in after.text and "Your advisor will call you at 10:00 tomorrow." in after.text
    with live_app.transaction() as session:
        from actions.complaints.casework import find_case

        assert find_case(session, ticket).responded_at is not None


async def test_the_outbox_page_counts_by_kind_and_channel_and_retries_a_dead_letter(
        demo_app: App, client: httpx.AsyncClient) -> None:
    from db.models import OutboxMessage

    staff(demo_app, "adel", "advisor", "dubai")
    staff(demo_app, "manal", "manager")
    with demo_app.transaction() as session:
        now = demo_app.clock.now()
        owner = make_customer(session, now, name="Dead Letter Owner")
        row = OutboxMessage(idempotency_key="test:dead:1", kind="service_due", customer_id=owner.id, channel="telegram",
                            recipient="5550303", template="service_due", payload={}, status="dead", attempts=6,
                            next_attempt_at=now, created_at=now, last_error="Bad Request: chat not found")
        session.add(row)
        session.flush()
        row_id = row.id
    await log_in(client, "adel")
    assert (await client.get("/staff/outbox")).status_code == 403
    client.cookies.clear()
    await log_in(client, "manal")
    page = await client.get("/staff/outbox")
    assert page.status_code == 200 and "chat not found" in page.text and "Dead Letter Owner" in page.text
    assert re.search(r'data-kind="service_due" data-channel="telegram">.*?data-status="dead">1<', page.text, re.S)
    forged = await client.post(f"/staff/outbox/{row_id}/retry", data={"csrf_token": "nope"})
    assert forged.status_code == 403
    retried = await client.post(f"/staff/outbox/{row_id}/retry", data={"csrf_token": csrf_of(page)})
    assert retried.status_code == 200 and "Queued again." in retried.text and "chat not found" not in retried.text
    with demo_app.transaction() as session:
        again = session.get(OutboxMessage, row_id)
        assert (again.status, again.attempts) == ("pending", 0)


async def test_the_days_appointments_of_a_branch_marked_arrived_then_completed_bring_the_survey(
        demo_app: App, client: httpx.AsyncClient) -> None:
    from tests.factories import make_appointment
    from tests.test_scheduler import rows, scan

    staff(demo_app, "tariq", "advisor", "dubai")
    with demo_app.transaction() as session:
        now = demo_app.clock.now()
        owner = make_customer(session, now, name="Visit Owner")
        car = make_vehicle(session, now, owner)
        soon = now + timedelta(hours=1)
        here = make_appointment(session, now, car, starts_at=soon, courtesy_car=True).reference
        there = make_appointment(session, now, car, starts_at=soon + timedelta(minutes=30), branch="sharjah")
        there_id, there_ref = there.id, there.reference
    await log_in(client, "tariq")
    day = (demo_app.clock.now() + timedelta(hours=1)).astimezone(demo_app.settings.tz).date().isoformat()
    page = await client.get(f"/staff/appointments?day={day}")
    assert page.status_code == 200 and here in page.text and there_ref not in page.text and "courtesy car" in page.text
    row_id = re.search(rf'action="/staff/appointments/(\d+)/arrived"', page.text).group(1)  # type: ignore[union-attr]
    csrf = csrf_of(page)
    arrived = await client.post(f"/staff/appointments/{row_id}/arrived?day={day}", data={"csrf_token": csrf})
    assert arrived.status_code == 200 and "marked arrived" in arrived.text
    refused = await client.post(f"/staff/appointments/{there_id}/completed", data={"csrf_token": csrf})
    assert refused.status_code == 403
    done = await client.post(f"/staff/appointments/{row_id}/completed?day={day}", data={"csrf_token": csrf})
    assert done.status_code == 200 and "feedback survey" in done.text
    again = await client.post(f"/staff/appointments/{row_id}/completed?day={day}", data={"csrf_token": csrf})
    assert again.status_code == 400 and "completed, not booked" in again.text
    demo_app.clock.advance(timedelta(hours=demo_app.settings.feedback_survey_delay_hours, minutes=5))  # type: ignore[attr-defined]
    scan(demo_app, "feedback_surveys")
    assert any(r.payload.get("appointment_id") == int(row_id) for r in rows(demo_app, kind="feedback_survey"))


async def test_a_handoff_taken_written_in_live_and_given_back(live_app: App, twilio_server: TwilioStandIn) -> None:
    """A conversation waiting for a person: listed (and in the live part), taken once (a colleague's second
    take is refused), the advisor's message reaching the customer's Telegram and the transcript, then given
    back to the assistant."""
    from actions.handoff.service import open_handoff
    from db.models import ChatMessage, Handoff

    staff(live_app, "zaid", "manager")
    staff(live_app, "huda", "manager")
    with live_app.transaction() as session:
        owner_id = make_customer(session, live_app.clock.now(), name="Waiting Customer").id
    identity = link(live_app, owner_id, "telegram", "5550404", timedelta(minutes=1))
    with live_app.transaction() as session:
        session.add(ChatMessage(channel_identity_id=identity, direction="in", text="I want to speak to a person please",
                                media=[], created_at=live_app.clock.now()))
        handoff_id = open_handoff(session, live_app.clock.now(), identity, owner_id, "speak to a person").id
    web = create_app(compose(live_app, nlu=FakeNlu(), channels=[]))
    async with web.router.lifespan_context(web):
        transport = httpx.ASGITransport(web)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as zaid, \
                httpx.AsyncClient(transport=transport, base_url="http://testserver") as huda:
            await log_in(zaid, "zaid")
            await log_in(huda, "huda")
            listed = await zaid.get("/staff/handoffs")
            assert f'data-handoff="{handoff_id}"' in listed.text and "Waiting Customer" in listed.text
            assert f'data-handoff="{handoff_id}"' in (await zaid.get("/staff/handoffs?part=list")).text
            took = await zaid.post(f"/staff/handoffs/{handoff_id}/take", data={"csrf_token": csrf_of(listed)})
            assert took.status_code == 200 and "The conversation is yours" in took.text
            late = await huda.post(f"/staff/handoffs/{handoff_id}/take",
                                   data={"csrf_token": csrf_of(await huda.get("/staff/handoffs"))})
            assert late.status_code == 409 and "no longer waiting" in late.text
            wrote = await zaid.post(f"/staff/handoffs/{handoff_id}/write",
                                    data={"text": "Hello, this is Zaid from the service desk.", "csrf_token": csrf_of(took)})
            assert wrote.status_code == 200 and "Sent to the customer" in wrote.text
            async with outbound(live_app, twilio_server) as out:
                await out.dispatch()
                assert out.telegram.texts(5550404) == ["Hello, this is Zaid from the service desk."]
            live = (await zaid.get(f"/staff/handoffs/{handoff_id}?part=transcript")).text
            assert "I want to speak to a person please" in live and "Hello, this is Zaid from the service desk." in live
            back = await zaid.post(f"/staff/handoffs/{handoff_id}/release", data={"csrf_token": csrf_of(took)})
            assert back.status_code == 200 and "answers this customer again" in back.text
    with live_app.transaction() as session:
        assert session.get(Handoff, handoff_id).status == "released"


async def test_leads_are_listed_filtered_and_their_status_changed(demo_app: App, client: httpx.AsyncClient) -> None:
    from db.models import Lead

    staff(demo_app, "wafa", "manager")
    with demo_app.transaction() as session:
        now = demo_app.clock.now()
        owner = make_customer(session, now, name="Lead Owner")
        car = make_vehicle(session, now, owner)
        lead = Lead(kind="trade_in_valuation", customer_id=owner.id, vehicle_id=car.id, details={"asked": "valuation"},
                    status="new", created_at=now)
        session.add(lead)
        session.flush()
        lead_id = lead.id
    await log_in(client, "wafa")
    page = await client.get("/staff/leads")
    assert f'data-lead="{lead_id}"' in page.text and "Lead Owner" in page.text and "asked: valuation" in page.text
    assert f'data-lead="{lead_id}"' not in (await client.get("/staff/leads?kind=insurance")).text
    changed = await client.post(f"/staff/leads/{lead_id}/status", data={"status": "contacted", "csrf_token": csrf_of(page)})
    assert changed.status_code == 200 and "The lead is now contacted." in changed.text
    bad = await client.post(f"/staff/leads/{lead_id}/status", data={"status": "sold-twice", "csrf_token": csrf_of(page)})
    assert bad.status_code == 400
    with demo_app.transaction() as session:
        assert session.get(Lead, lead_id).status == "contacted"


async def test_reports_for_managers_as_charts_and_csv(demo_app: App, client: httpx.AsyncClient) -> None:
    from db.models import Feedback

    staff(demo_app, "amir", "manager")
    staff(demo_app, "ola", "advisor", "dubai")
    answered = complaint_at(demo_app, "dubai", "Report Owner")
    complaint_at(demo_app, "dubai", "Report Owner Two", "The brakes failed on the highway")
    with demo_app.transaction() as session:
        from actions.complaints.casework import find_case

        case = find_case(session, answered)
        case.responded_at = case.created_at + timedelta(hours=3)
        session.add(Feedback(customer_id=case.customer_id, rating=4, created_at=demo_app.clock.now()))
        session.add(Feedback(customer_id=case.customer_id, rating=2, created_at=demo_app.clock.now()))
        from db.models import OutboxMessage, Vehicle
        from tests.factories import make_appointment

        now = demo_app.clock.now()
        for n, booked in enumerate((True, False)):
            car = make_vehicle(session, now, make_customer(session, now))
            session.add(OutboxMessage(idempotency_key=f"test:reminded:{n}", kind="service_due", customer_id=car.customer_id,
                                      channel="telegram", recipient="1", template="service_due",
                                      payload={"vehicle_id": car.id}, status="sent", attempts=1,
                                      next_attempt_at=now, created_at=now, sent_at=now - timedelta(days=1)))
            if booked:
                make_appointment(session, now, session.get(Vehicle, car.id), starts_at=now + timedelta(days=3))
    await log_in(client, "ola")
    assert (await client.get("/staff/reports")).status_code == 403
    assert (await client.get("/staff/reports.csv")).status_code == 403
    client.cookies.clear()
    await log_in(client, "amir")
    page = await client.get("/staff/reports")
    assert page.status_code == 200 and page.text.count("<svg") >= 3
    assert "Median 3 hours to the first answer" in page.text and "1 of 1 answered in time" in page.text
    sheet = (await client.get("/staff/reports.csv")).text.splitlines()
    month = demo_app.clock.now().astimezone(demo_app.settings.tz).strftime("%Y-%m")
    assert sheet[0] == "report,month,key,value"
    assert f"csat,{month},average,3.00" in sheet and f"csat,{month},ratings,2" in sheet
    assert "first_answer,,median_hours,3.00" in sheet and f"complaints,{month},service,2" in sheet
    assert "reminder_conversion,,reminders_sent,2" in sheet and "reminder_conversion,,followed_by_a_booking,1" in sheet
    assert "1 of 2 reminders were followed by a booking" in page.text


async def test_an_admin_adds_and_deactivates_staff_users_and_no_one_else_may(demo_app: App, client: httpx.AsyncClient) -> None:
    staff(demo_app, "root.admin", "admin")
    staff(demo_app, "mgr", "manager")
    await log_in(client, "mgr")
    assert (await client.get("/staff/users")).status_code == 403
    client.cookies.clear()
    await log_in(client, "root.admin")
    page = await client.get("/staff/users")
    assert page.status_code == 200 and 'data-user="mgr"' in page.text
    csrf = csrf_of(page)
    added = await client.post("/staff/users/add", data={"username": "New.Advisor", "role": "advisor", "branch": "dubai",
                                                          "password": PASSWORD, "name": "New Advisor", "csrf_token": csrf})
    assert added.status_code == 200 and "User new.advisor added." in added.text
    refused = await client.post("/staff/users/add", data={"username": "x", "role": "advisor", "password": PASSWORD,
                                                            "csrf_token": csrf})
    assert refused.status_code == 400 and "works at a branch" in refused.text
    with demo_app.transaction() as session:
        mgr_id = session.scalar(select(StaffUser.id).where(StaffUser.username == "mgr"))
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")  # mgr signed in elsewhere
    async with other:
        await log_in(other, "mgr")
        assert (await other.get("/staff/")).status_code == 200
        off = await client.post(f"/staff/users/{mgr_id}/deactivate", data={"csrf_token": csrf})
        assert off.status_code == 200 and "deactivated" in off.text
        assert (await other.get("/staff/")).headers["location"] == "/staff/login"  # their session ended
        assert (await log_in(other, "mgr")).status_code == 401
    client.cookies.clear()
    assert (await log_in(client, "new.advisor")).status_code == 303


async def test_work_found_is_approved_in_chat_and_shows_in_the_console(live_app: App, twilio_server: TwilioStandIn) -> None:
    """The approve-work round trip: the advisor adds an item with its price, the customer gets it on Telegram
    with two buttons, answers "1" (approve) in chat, and the console's live table shows it approved; a
    second item declined by its button's text; an answer on an item decided already is refused."""
    from actions.kit.types import InboundMessage
    from bot.core import Assistant
    from bot.metrics import Metrics
    from bot.serial import KeyedLocks
    from db.models import Vehicle, WorkItem
    from tests.factories import make_appointment

    staff(live_app, "samir", "advisor", "dubai")
    with live_app.transaction() as session:
        now = live_app.clock.now()
        owner = make_customer(session, now, name="Lift Customer")
        car = make_vehicle(session, now, owner)
        visit = make_appointment(session, now, session.get(Vehicle, car.id), starts_at=now + timedelta(minutes=30))
        owner_id, visit_id = owner.id, visit.id
    link(live_app, owner_id, "telegram", "5550505", timedelta(minutes=10))
    day = (live_app.clock.now() + timedelta(minutes=30)).astimezone(live_app.settings.tz).date().isoformat()
    web = create_app(compose(live_app, nlu=FakeNlu(), channels=[]))
    async with web.router.lifespan_context(web):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(web), base_url="http://testserver") as c:
            await log_in(c, "samir")
            page = await c.get(f"/staff/appointments?day={day}")
            bad = await c.post(f"/staff/appointments/{visit_id}/work?day={day}",
                               data={"description": "Front brake pads worn", "price": "cheap", "csrf_token": csrf_of(page)})
            assert bad.status_code == 400 and "not a price" in bad.text
            for description, price in (("Front brake pads worn: replace", "480"), ("Wiper blades", "60.50")):
                added = await c.post(f"/staff/appointments/{visit_id}/work?day={day}",
                                     data={"description": description, "price": price, "csrf_token": csrf_of(page)})
                assert added.status_code == 200 and "sent to the customer for approval" in added.text
            async with outbound(live_app, twilio_server) as out:
                await out.dispatch()
                sent = out.telegram.sent(5550505)
            assert len(sent) == 2 and "Front brake pads worn: replace, AED 480" in sent[0]["text"]
            buttons = [b["callback_data"] for row in sent[1]["reply_markup"]["inline_keyboard"] for b in row]
            assert buttons[1].startswith("intent:work_approval?") and "answer=no" in buttons[1]
            assistant = Assistant(transaction=live_app.transaction, settings=live_app.settings, clock=live_app.clock,
                                  nlu=FakeNlu(), locks=KeyedLocks(), metrics=Metrics())
            # The last message's options are pickable: "2" declines the wiper blades.
            replies = await assistant.handle(InboundMessage("telegram", "5550505", "2", received_at=live_app.clock.now()))
            assert "we will not do it (Wiper blades)" in " ".join(r.text for r in replies)
            with live_app.transaction() as session:
                brakes = session.scalar(select(WorkItem).where(WorkItem.description.startswith("Front brake")))
                brakes_id = brakes.id
            yes = InboundMessage("telegram", "5550505", "", received_at=live_app.clock.now(),
                                 payload=f"intent:work_approval?item={brakes_id}&answer=yes")
            replies = await assistant.handle(yes)
            assert "we will do it (Front brake pads worn: replace, AED 480)" in " ".join(r.text for r in replies)
            again = await assistant.handle(yes)
            assert "answered already" in " ".join(r.text for r in again)
            live = (await c.get(f"/staff/appointments?day={day}&part=table")).text
            assert re.search(rf'data-item="{brakes_id}" class="work-approved"', live)
            assert 'class="work-declined"' in live


async def test_work_approved_by_its_button_while_a_person_has_the_conversation(live_app: App) -> None:
    """While an advisor has the conversation the assistant is quiet, but an approve button answers the
    advisor's own question: the item is decided (typed words still go to the person, in the transcript)."""
    from actions.appointments import work
    from actions.handoff import desk
    from actions.handoff.service import open_handoff
    from actions.kit.types import InboundMessage
    from bot.core import Assistant
    from bot.metrics import Metrics
    from bot.serial import KeyedLocks
    from db.models import Appointment, Vehicle, WorkItem
    from decimal import Decimal
    from tests.factories import make_appointment

    staff(live_app, "rami", "advisor", "dubai")
    with live_app.transaction() as session:
        now = live_app.clock.now()
        owner = make_customer(session, now, name="Held Customer")
        car = make_vehicle(session, now, owner)
        visit = make_appointment(session, now, session.get(Vehicle, car.id), starts_at=now + timedelta(minutes=30))
        owner_id, visit_id = owner.id, visit.id
    identity = link(live_app, owner_id, "telegram", "5550707", timedelta(minutes=5))
    with live_app.transaction() as session:
        now = live_app.clock.now()
        handoff = open_handoff(session, now, identity, owner_id, "a person")
        desk.take(session, handoff, session.scalar(select(StaffUser).where(StaffUser.username == "rami")), now)
        item_id = work.add_item(session, session.get(Appointment, visit_id), "Battery weak: replace",
                                Decimal("390"), None, now).id
    assistant = Assistant(transaction=live_app.transaction, settings=live_app.settings, clock=live_app.clock,
                          nlu=FakeNlu(), locks=KeyedLocks(), metrics=Metrics())
    typed = await assistant.handle(InboundMessage("telegram", "5550707", "ok", received_at=live_app.clock.now()))
    assert typed == []  # the person answers typed words
    pressed = await assistant.handle(InboundMessage("telegram", "5550707", "", received_at=live_app.clock.now(),
                                                    payload=f"intent:work_approval?item={item_id}&answer=yes"))
    assert "we will do it (Battery weak: replace, AED 390)" in " ".join(r.text for r in pressed)
    with live_app.transaction() as session:
        assert session.get(WorkItem, item_id).status == "approved"
