"""The staff console's pages under /staff: log-in and log-out, the case queue. Server-rendered (Jinja2).

Every page but the log-in form needs a live session (else a redirect to the log-in page; a POST without one
is refused). Cookies: `staff_session` (the session's token) and `staff_login_csrf` (the log-in form's CSRF
token, double-submitted), both HttpOnly, SameSite=Strict, path /staff, Secure over HTTPS; `staff_lang` (en
or ar, chosen with ?lang=). Every form posts `csrf_token`: the session's, or on the log-in form the
cookie's; a mismatch is refused (403) and nothing is done. The interface is in English or Arabic; Arabic
pages are right-to-left.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import anyio.to_thread
from babel.dates import format_timedelta
from babel.numbers import format_percent
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import false, func, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from actions.kit import formats
from actions.kit.catalog import text
from bot.staff import auth, reports
from actions.appointments import service as appointments
from actions.appointments import work
from actions.complaints import casework
from actions.handoff import desk
from actions.handoff.service import customer_branch
from actions.complaints.service import next_deadline
from actions.kit.vehicles import label as vehicle_label
from bot.staff.queue import Filters, QueueItem, case_branch, may_see, queue
from db.models import (
    COMPLAINT_STATUSES,
    OUTBOX_STATUSES,
    Appointment,
    Bay,
    Branch,
    ChannelIdentity,
    ChatMessage,
    Complaint,
    Customer,
    LEAD_KINDS,
    Handoff,
    Lead,
    OutboxMessage,
    ServiceType,
    StaffUser,
    Vehicle,
)
from scheduler.dispatch import retry_dead
from dealerbot.bootstrap import Services
from dealerbot.logging import get_logger

log = get_logger("bot.staff")

SESSION_COOKIE = "staff_session"
LOGIN_CSRF_COOKIE = "staff_login_csrf"
LANG_COOKIE = "staff_lang"
LANGUAGES = ("en", "ar")
ACTIONS = ("status", "assign", "note", "answer")  # POST /staff/tickets/<ticket>/<action>
TRANSCRIPT_LIMIT = 200  # the latest messages of the customer's conversation on a ticket's or hand-off's page
DEAD_LETTERS_SHOWN = 100
LEADS_SHOWN = 300
LEAD_STATUSES = ("new", "contacted", "won", "lost", "closed")

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html"]))


class Refused(ValueError):
    """What a form asked is not possible (the message says why, shown on the page it came from)."""


# A page a form returns to (with what was done, or the error and a status), and what a form does.
Back = Callable[..., Awaitable[Response]]
Act = Callable[[StaffUser, FormData, str], tuple[int, str]]


def _language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGUAGES else "en"


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/staff", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def _page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = _language(request)
    html = _templates.get_template(template).render(lang=lang, t=lambda key, **kw: text(key, lang, **kw), **values)
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/staff", samesite="strict")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def routes(services: Services) -> list[Route]:
    app = services.app

    def now() -> datetime:
        return app.clock.now()

    def signed_in(request: Request) -> tuple[StaffUser, str] | None:
        """(the user, the session's CSRF token), in a transaction of its own (the session is marked seen)."""
        with app.transaction() as session:
            found = auth.current(session, request.cookies.get(SESSION_COOKIE), now())
            if found is None:
                return None
            user, staff_session = found
            session.expunge(user)
            return user, staff_session.csrf_token

    async def form_action(request: Request, back: Back, act: Act, refusals: tuple[type[Exception], ...] = (),
                          refused_status: int = 400, valid: bool = True, roles: tuple[str, ...] | None = None,
                          role_text: str = "staff_managers_only") -> Response:
        """A console form's POST. Signed in (else 403); `valid` (the path names something: else 404); the role
        (else the error page, 403); the form's CSRF token (else `back` with the error, 403). Then `act(user,
        form, lang)` in a worker thread, in one transaction: (200, what was done) is shown on `back`; (403 or
        404, why) on the error page; a refusal of the domain (`refusals`: rolled back, nothing half-done) on
        `back` with its message and `refused_status`."""
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return Response("not signed in", status_code=403)
        user, csrf = found
        lang = _language(request)
        if not valid:
            return Response("not found", status_code=404)
        if roles is not None and user.role not in roles:
            return _page(request, "error.html", status=403, user=user, csrf_token=csrf, error=text(role_text, lang))
        form = await request.form()
        if not auth.same_token(str(form.get("csrf_token") or ""), csrf):
            log.warning("staff_csrf_refused", staff_user_id=user.id, path=request.url.path)
            return await back(request, error=text("staff_csrf_failed", lang), status=403)
        try:
            code, said = await anyio.to_thread.run_sync(act, user, form, lang)
        except refusals as exc:
            return await back(request, error=str(exc), status=refused_status)
        if code != 200:
            return _page(request, "error.html", status=code, user=user, csrf_token=csrf, error=said)
        return await back(request, done=said or None)

    async def login_form(request: Request, error: str | None = None, status: int = 200,
                         username: str | None = None) -> Response:
        token = secrets.token_urlsafe(32)
        response = _page(request, "login.html", status=status, user=None, csrf_token=token, error=error,
                         username=username)
        _cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response

    async def login_page(request: Request) -> Response:
        if await anyio.to_thread.run_sync(signed_in, request) is not None:
            return RedirectResponse("/staff/", status_code=303)
        return await login_form(request)

    async def login_post(request: Request) -> Response:
        form = await request.form()
        lang = _language(request)
        if not auth.same_token(str(form.get("csrf_token") or ""), request.cookies.get(LOGIN_CSRF_COOKIE)):
            log.warning("staff_login_csrf_refused")
            return await login_form(request, text("staff_csrf_failed", lang), status=403)
        username, password = str(form.get("username") or ""), str(form.get("password") or "")

        def attempt() -> auth.LoginResult:
            with app.transaction() as session:
                result = auth.log_in(session, username, password, now())
                if result.user is not None:
                    session.expunge(result.user)
                return result

        result = await anyio.to_thread.run_sync(attempt)  # argon2 takes tens of ms of CPU: not on the loop
        if result.token is None:
            log.info("staff_login_failed", locked=result.locked_until is not None)
            if result.locked_until is not None:
                until = formats.moment(result.locked_until, lang, app.settings.tz, now())
                return await login_form(request, text("staff_login_locked", lang, until=until), 429, username)
            return await login_form(request, text("staff_login_failed", lang), 401, username)
        assert result.user is not None
        log.info("staff_logged_in", staff_user_id=result.user.id, role=result.user.role)
        response = RedirectResponse("/staff/", status_code=303)
        _cookie(response, request, SESSION_COOKIE, result.token, max_age=int(auth.ABSOLUTE.total_seconds()))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff")
        return response

    async def logout(request: Request) -> Response:
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        form = await request.form()
        if not auth.same_token(str(form.get("csrf_token") or ""), found[1]):
            return _page(request, "login.html", status=403, user=None, csrf_token="",
                         error=text("staff_csrf_failed", _language(request)))

        def end() -> None:
            with app.transaction() as session:
                auth.log_out(session, request.cookies.get(SESSION_COOKIE))

        await anyio.to_thread.run_sync(end)
        response = RedirectResponse("/staff/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/staff")
        return response

    async def queue_page(request: Request) -> Response:
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        user, csrf = found
        lang = _language(request)
        filters = Filters(branch_id=_int(request.query_params.get("branch")),
                          status=request.query_params.get("status") or None,
                          urgency=request.query_params.get("urgency") or None)
        at = now()

        def load() -> tuple[list[QueueItem], list[tuple[int, str]]]:
            with app.snapshot() as session:
                branches = [(b.id, b.name_ar if lang == "ar" else b.name_en)
                            for b in session.scalars(select(Branch).order_by(Branch.id))
                            if user.role != "advisor" or b.id == user.branch_id]
                return queue(session, user, at, filters, lang), branches

        items, branches = await anyio.to_thread.run_sync(load)

        def time_left(item: QueueItem) -> str:
            if item.due is None:
                return ""
            told = format_timedelta(abs(item.due - at), granularity="minute", threshold=1.5, locale=formats.locale(lang))
            return text("staff_overdue_by", lang, time=told) if item.breached else told

        def due(item: QueueItem) -> str:
            return formats.moment(item.due, lang, app.settings.tz, at) if item.due is not None else ""

        statuses = sorted({*COMPLAINT_STATUSES, "in_review", "approved", "in_repair"} - {"resolved", "closed"})
        return _page(request, "queue.html", user=user, csrf_token=csrf, items=items, branches=branches,
                     filters=filters, statuses=statuses, time_left=time_left, due=due)

    def ticket_view(user: StaffUser, ticket: str, lang: str) -> tuple[int, dict[str, Any]]:
        """(status, the page's values): 404 for no such ticket, 403 for another branch's."""
        at = now()
        tz = app.settings.tz
        with app.snapshot() as session:
            case = casework.find_case(session, ticket)
            if case is None:
                return 404, {"error": text("staff_not_found", lang)}
            if not may_see(session, user, case):
                return 403, {"error": text("staff_refused_branch", lang)}
            customer = session.get(Customer, case.customer_id)
            vehicle = session.get(Vehicle, case.vehicle_id) if case.vehicle_id is not None else None
            branch_id = case_branch(session, case)
            branch = session.get(Branch, branch_id) if branch_id is not None else None
            people = {u.id: u.display_name or u.username for u in session.scalars(select(StaffUser))}
            staff = sorted((i, n) for i, n in people.items())
            what, due = next_deadline(case)
            moment = lambda value: formats.moment(value, lang, tz, at) if value is not None else None  # noqa: E731
            deadlines = ([("acknowledge", moment(case.acknowledge_by), moment(case.acknowledged_at))]
                         if isinstance(case, Complaint) else [])
            deadlines.append(("answer", moment(case.respond_by), moment(case.responded_at)))
            if isinstance(case, Complaint):
                deadlines.append(("resolve", moment(case.resolve_by), moment(case.resolved_at)))
            identities = {i.id: i.channel for i in session.scalars(
                select(ChannelIdentity).where(ChannelIdentity.customer_id == case.customer_id))}
            messages = list(session.scalars(
                select(ChatMessage).where(ChatMessage.channel_identity_id.in_(identities) if identities else false())
                .order_by(ChatMessage.created_at.desc(), ChatMessage.id.desc()).limit(TRANSCRIPT_LIMIT)))
            values = {
                "case": case, "customer": customer, "subject": getattr(case, "category", None) or case.component,
                "vehicle": vehicle_label(vehicle) if vehicle is not None else None,
                "branch": (branch.name_ar if lang == "ar" else branch.name_en) if branch is not None else None,
                "assigned": people.get(case.assigned_staff_id) if case.assigned_staff_id else None,
                "statuses": casework.statuses(case), "staff": staff, "deadlines": deadlines,
                "next_due": f"{text('staff_deadline_' + what, lang)} {moment(due)}" if what and due else None,
                "breached": due is not None and due < at,
                "photos": [p for p in (getattr(case, "photos", None) or []) if str(p).startswith(("https://", "http://"))],
                "notes": [{"at": moment(n.created_at), "author": people.get(n.staff_user_id, ""), "body": n.body,
                           "visible_to_customer": n.visible_to_customer} for n in casework.notes(session, case)],
                "transcript": [{"at": moment(m.created_at), "channel": identities.get(m.channel_identity_id, ""),
                                "direction": m.direction, "text": m.text} for m in reversed(messages)],
            }
            session.expunge_all()
            return 200, values

    async def ticket_page(request: Request, done: str | None = None, error: str | None = None,
                          status: int = 200) -> Response:
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        user, csrf = found
        lang = _language(request)
        code, values = await anyio.to_thread.run_sync(ticket_view, user, request.path_params["ticket"], lang)
        if code != 200:
            return _page(request, "error.html", status=code, user=user, csrf_token=csrf, **values)
        return _page(request, "ticket.html", status=status, user=user, csrf_token=csrf, done=done, error=error,
                     **values)

    async def ticket_action(request: Request) -> Response:
        ticket, action = request.path_params["ticket"], request.path_params["action"]

        def act(user: StaffUser, form: FormData, lang: str) -> tuple[int, str]:
            with app.transaction() as session:
                case = casework.find_case(session, ticket)
                if case is None:
                    return 404, text("staff_not_found", lang)
                if not may_see(session, user, case):
                    return 403, text("staff_refused_branch", lang)
                at = now()
                if action == "status":
                    casework.set_status(case, str(form.get("status") or ""), at)
                    done = text("staff_done_status", lang, status=case.status)
                elif action == "assign":
                    casework.assign(session, case, _int(str(form.get("staff_user_id") or "")))
                    done = text("staff_done_assign", lang)
                elif action == "note":
                    casework.add_note(session, case, str(form.get("body") or ""), user.id, at)
                    done = text("staff_done_note", lang)
                else:  # "answer"
                    casework.answer(session, case, str(form.get("body") or ""), user.id, at)
                    done = text("staff_done_answer", lang)
                log.info("staff_case_changed", staff_user_id=user.id, ticket=case.ticket_id, action=action)
                return 200, done

        return await form_action(request, ticket_page, act, (casework.CaseworkError,), valid=action in ACTIONS)

    def outbox_view(lang: str) -> dict[str, Any]:
        at = now()
        with app.snapshot() as session:
            counts: dict[tuple[str, str], dict[str, int]] = {}
            for kind, channel, status, count in session.execute(
                select(OutboxMessage.kind, OutboxMessage.channel, OutboxMessage.status, func.count())
                .group_by(OutboxMessage.kind, OutboxMessage.channel, OutboxMessage.status)
            ):
                counts.setdefault((kind, channel), {})[status] = count
            dead = [
                {"id": row.id, "kind": row.kind, "channel": row.channel, "customer": name, "attempts": row.attempts,
                 "error": row.last_error, "created": formats.moment(row.created_at, lang, app.settings.tz, at)}
                for row, name in session.execute(
                    select(OutboxMessage, Customer.name).outerjoin(Customer, OutboxMessage.customer_id == Customer.id)
                    .where(OutboxMessage.status == "dead").order_by(OutboxMessage.id.desc()).limit(DEAD_LETTERS_SHOWN))
            ]
        return {"counts": sorted(counts.items()), "statuses": OUTBOX_STATUSES, "dead": dead}

    async def outbox_page(request: Request, done: str | None = None, error: str | None = None,
                          status: int = 200) -> Response:
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        user, csrf = found
        lang = _language(request)
        if user.role == "advisor":
            return _page(request, "error.html", status=403, user=user, csrf_token=csrf,
                         error=text("staff_managers_only", lang))
        values = await anyio.to_thread.run_sync(outbox_view, lang)
        return _page(request, "outbox.html", status=status, user=user, csrf_token=csrf, done=done, error=error,
                     **values)

    async def outbox_retry(request: Request) -> Response:
        row_id = _int(request.path_params["row"])

        def act(user: StaffUser, form: FormData, lang: str) -> tuple[int, str]:
            with app.transaction() as session:
                requeued = retry_dead(session, now(), [row_id] if row_id is not None else [])
            log.info("staff_outbox_retry", staff_user_id=user.id, row_id=row_id, requeued=requeued)
            return 200, text("staff_done_retry", lang) if requeued else ""

        return await form_action(request, outbox_page, act, roles=("manager", "admin"))

    def appointments_view(user: StaffUser, lang: str, branch_id: int | None, day: date) -> dict[str, Any]:
        tz = app.settings.tz
        start = datetime.combine(day, time.min, tzinfo=tz)
        with app.snapshot() as session:
            branches = [(b.id, b.name_ar if lang == "ar" else b.name_en)
                        for b in session.scalars(select(Branch).order_by(Branch.id))
                        if user.role != "advisor" or b.id == user.branch_id]
            allowed = {b for b, _ in branches}
            if branch_id not in allowed:
                branch_id = user.branch_id if user.branch_id in allowed else (branches[0][0] if branches else None)
            rows = session.execute(
                select(Appointment, Customer.name, Vehicle, ServiceType, Bay.name)
                .join(Customer, Appointment.customer_id == Customer.id)
                .join(Vehicle, Appointment.vehicle_id == Vehicle.id)
                .join(ServiceType, Appointment.service_type_id == ServiceType.id)
                .outerjoin(Bay, Appointment.bay_id == Bay.id)
                .where(Appointment.branch_id == branch_id, Appointment.starts_at >= start,
                       Appointment.starts_at < start + timedelta(days=1))
                .order_by(Appointment.starts_at, Appointment.id)
            ).all()
            visits = [{
                "id": a.id, "reference": a.reference, "time": formats.clock(a.starts_at.astimezone(tz)),
                "customer": name, "vehicle": vehicle_label(vehicle),
                "service": service.name_ar if lang == "ar" else service.name_en, "bay": bay, "status": a.status,
                "arrived": formats.clock(a.arrived_at.astimezone(tz)) if a.arrived_at else None,
                "options": [o for o, on in (("courtesy_car", a.courtesy_car), ("pickup", a.pickup_dropoff),
                                            ("mobile", a.mobile_service), ("express", a.express_lane)) if on],
            } for a, name, vehicle, service, bay in rows]
            found: dict[int, list[dict[str, Any]]] = {}
            for item in work.items(session, [v["id"] for v in visits]):
                found.setdefault(item.appointment_id, []).append(
                    {"id": item.id, "description": item.description, "status": item.status,
                     "price": f"{formats.money(item.price_aed, lang)} {text('staff_currency', lang)}"})
            for visit in visits:
                visit["work"] = found.get(visit["id"], [])
        return {"branches": branches, "branch_id": branch_id, "visits": visits, "day": day.isoformat(),
                "day_label": formats.day(day, lang)}

    async def appointments_page(request: Request, done: str | None = None, error: str | None = None,
                                status: int = 200) -> Response:
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        user, csrf = found
        lang = _language(request)
        day = _day(request.query_params.get("day")) or now().astimezone(app.settings.tz).date()
        values = await anyio.to_thread.run_sync(appointments_view, user, lang,
                                                _int(request.query_params.get("branch")), day)
        template = "appointments_table.html" if request.query_params.get("part") == "table" else "appointments.html"
        return _page(request, template, status=status, user=user, csrf_token=csrf, done=done, error=error, **values)

    async def appointment_action(request: Request) -> Response:
        action, appointment_id = request.path_params["action"], _int(request.path_params["appointment"])

        def act(user: StaffUser, form: FormData, lang: str) -> tuple[int, str]:
            with app.transaction() as session:
                appointment = session.get(Appointment, appointment_id)
                if appointment is None:
                    return 404, text("staff_not_found", lang)
                if user.role == "advisor" and appointment.branch_id != user.branch_id:
                    return 403, text("staff_refused_branch", lang)
                if action == "work":
                    price = work.price_of(str(form.get("price") or ""))
                    work.add_item(session, appointment, str(form.get("description") or ""), price, user.id, now())
                elif action == "arrived":
                    appointments.mark_arrived(appointment, now())
                else:
                    appointments.mark_completed(appointment, now())
                log.info("staff_visit_marked", staff_user_id=user.id, appointment_id=appointment.id, action=action)
                return 200, text(f"staff_done_{action}", lang, reference=appointment.reference)

        return await form_action(request, appointments_page, act, (appointments.VisitError, work.WorkError),
                                 valid=action in ("arrived", "completed", "work") and appointment_id is not None)

    def handoff_values(session: Any, user: StaffUser, handoff: Handoff, people: dict[int, str], lang: str) -> dict[str, Any]:
        identity = session.get(ChannelIdentity, handoff.channel_identity_id)
        customer = session.get(Customer, handoff.customer_id) if handoff.customer_id is not None else None
        channel = identity.channel if identity is not None else ""
        return {
            "id": handoff.id, "status": handoff.status,
            "state": {"open": "waiting", "claimed": "claimed"}.get(handoff.status, "released"),
            "who": customer.name if customer is not None else text("staff_unknown_customer", lang, channel=channel),
            "channel": channel, "reason": handoff.reason,
            "since": formats.moment(handoff.created_at, lang, app.settings.tz, now()),
            "taken_by": people.get(handoff.claimed_by_staff_id) if handoff.claimed_by_staff_id else None,
            "mine": handoff.claimed_by_staff_id == user.id,
        }

    def handoffs_view(user: StaffUser, lang: str) -> dict[str, Any]:
        with app.snapshot() as session:
            people = {u.id: u.display_name or u.username for u in session.scalars(select(StaffUser))}
            return {"handoffs": [handoff_values(session, user, h, people, lang) for h in desk.active(session)
                                 if desk.may_handle(session, user, h)]}

    def handoff_view(user: StaffUser, handoff_id: int, lang: str) -> tuple[int, dict[str, Any]]:
        at = now()
        with app.snapshot() as session:
            handoff = session.get(Handoff, handoff_id)
            if handoff is None:
                return 404, {"error": text("staff_not_found", lang)}
            if not desk.may_handle(session, user, handoff):
                return 403, {"error": text("staff_refused_branch", lang)}
            people = {u.id: u.display_name or u.username for u in session.scalars(select(StaffUser))}
            messages = list(session.scalars(
                select(ChatMessage).where(ChatMessage.channel_identity_id == handoff.channel_identity_id)
                .order_by(ChatMessage.created_at.desc(), ChatMessage.id.desc()).limit(TRANSCRIPT_LIMIT)))
            return 200, {
                "h": handoff_values(session, user, handoff, people, lang),
                "transcript": [{"at": formats.moment(m.created_at, lang, app.settings.tz, at), "direction": m.direction,
                                "text": m.text} for m in reversed(messages)],
            }

    async def handoffs_page(request: Request, error: str | None = None, status: int = 200) -> Response:
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        user, csrf = found
        values = await anyio.to_thread.run_sync(handoffs_view, user, _language(request))
        template = "handoffs_list.html" if request.query_params.get("part") == "list" else "handoffs.html"
        return _page(request, template, status=status, user=user, csrf_token=csrf, error=error, **values)

    async def handoff_page(request: Request, done: str | None = None, error: str | None = None,
                           status: int = 200) -> Response:
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        user, csrf = found
        handoff_id = _int(request.path_params["handoff"])
        code, values = await anyio.to_thread.run_sync(handoff_view, user, handoff_id or 0, _language(request))
        if code != 200:
            return _page(request, "error.html", status=code, user=user, csrf_token=csrf, **values)
        template = "transcript.html" if request.query_params.get("part") == "transcript" else "handoff.html"
        return _page(request, template, status=status, user=user, csrf_token=csrf, done=done, error=error, **values)

    async def handoff_action(request: Request) -> Response:
        action, handoff_id = request.path_params["action"], _int(request.path_params["handoff"])

        def act(user: StaffUser, form: FormData, lang: str) -> tuple[int, str]:
            with app.transaction() as session:
                handoff = session.get(Handoff, handoff_id)
                if handoff is None:
                    return 404, text("staff_not_found", lang)
                if not desk.may_handle(session, user, handoff):
                    return 403, text("staff_refused_branch", lang)
                if action == "take":
                    desk.take(session, handoff, user, now())
                elif action == "write":
                    desk.write(session, handoff, user, str(form.get("text") or ""), now())
                else:
                    desk.give_back(handoff, user, now())
                log.info("staff_handoff", staff_user_id=user.id, handoff_id=handoff.id, action=action)
                return 200, text(f"staff_done_{action}", lang)

        return await form_action(request, handoff_page, act, (desk.DeskError,), refused_status=409,
                                 valid=action in ("take", "write", "release") and handoff_id is not None)

    def lead_visible(session: Any, user: StaffUser, lead: Lead) -> bool:
        """An advisor sees the leads of their branch's customers (and of senders we do not know)."""
        if user.role != "advisor" or lead.customer_id is None:
            return True
        branch = customer_branch(session, session.get(Customer, lead.customer_id))
        return branch is None or branch.id == user.branch_id

    def leads_view(user: StaffUser, lang: str, kind: str | None, status: str | None) -> dict[str, Any]:
        at = now()
        with app.snapshot() as session:
            query = (select(Lead, Customer.name, Vehicle).outerjoin(Customer, Lead.customer_id == Customer.id)
                     .outerjoin(Vehicle, Lead.vehicle_id == Vehicle.id).order_by(Lead.created_at.desc(), Lead.id.desc())
                     .limit(LEADS_SHOWN))
            if kind:
                query = query.where(Lead.kind == kind)
            if status:
                query = query.where(Lead.status == status)
            leads = [{
                "id": lead.id, "kind": lead.kind, "status": lead.status, "vehicle": vehicle_label(vehicle) if vehicle else None,
                "customer": name or "", "created": formats.moment(lead.created_at, lang, app.settings.tz, at),
                "details": sorted((str(k), str(v)) for k, v in (lead.details or {}).items()),
            } for lead, name, vehicle in session.execute(query) if lead_visible(session, user, lead)]
        return {"leads": leads, "kinds": LEAD_KINDS, "statuses": LEAD_STATUSES,
                "filters": {"kind": kind, "status": status}}

    async def leads_page(request: Request, done: str | None = None, error: str | None = None,
                         status: int = 200) -> Response:
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        user, csrf = found
        values = await anyio.to_thread.run_sync(leads_view, user, _language(request),
                                                request.query_params.get("kind") or None,
                                                request.query_params.get("status") or None)
        return _page(request, "leads.html", status=status, user=user, csrf_token=csrf, done=done, error=error, **values)

    async def lead_status(request: Request) -> Response:
        lead_id = _int(request.path_params["lead"])

        def act(user: StaffUser, form: FormData, lang: str) -> tuple[int, str]:
            status = str(form.get("status") or "")
            with app.transaction() as session:
                lead = session.get(Lead, lead_id) if lead_id is not None else None
                if lead is None:
                    return 404, text("staff_not_found", lang)
                if not lead_visible(session, user, lead):
                    return 403, text("staff_refused_branch", lang)
                if status not in LEAD_STATUSES:
                    raise Refused(f"{status!r} is not a lead status")
                lead.status = status
                lead.assigned_staff_id = lead.assigned_staff_id or user.id
                log.info("staff_lead_status", staff_user_id=user.id, lead_id=lead.id, status=status)
                return 200, text("staff_done_lead", lang, status=status)

        return await form_action(request, leads_page, act, (Refused,))

    def reports_of() -> reports.Reports:
        with app.snapshot() as session:
            return reports.build(session, now(), app.settings.tz)

    async def reports_page(request: Request) -> Response:
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        user, csrf = found
        lang = _language(request)
        if user.role == "advisor":
            return _page(request, "error.html", status=403, user=user, csrf_token=csrf,
                         error=text("staff_managers_only", lang))
        r = await anyio.to_thread.run_sync(reports_of)
        totals = Counter[str]()
        for counts in r.complaints.values():
            totals.update(counts)
        month_totals = [(m, float(sum(r.complaints.get(m, Counter()).values()))) for m in r.months]
        number = lambda value: formats.number(round(value, 1), lang) if value is not None else ""  # noqa: E731
        share = format_percent(r.reminders_booked / r.reminders_sent, locale=formats.locale(lang)) if r.reminders_sent else ""
        return _page(
            request, "reports.html", user=user, csrf_token=csrf, r=r,
            by_category=reports.bars(sorted(totals.items(), key=lambda kv: -kv[1])) if totals else "",
            by_month=reports.bars(month_totals) if any(v for _, v in month_totals) else "",
            answer_chart=reports.bars([("median", r.first_answer_hours or 0), ("allowed", r.allowed_hours or 0)], unit=" h"),
            took=number(r.first_answer_hours), allowed=number(r.allowed_hours), share=share,
            csat=reports.bars([(m, round(avg, 2)) for m, (avg, _n) in r.csat.items()]) if r.csat else "",
        )

    async def reports_csv(request: Request) -> Response:
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        if found[0].role == "advisor":
            return Response(text("staff_managers_only", _language(request)), status_code=403)
        r = await anyio.to_thread.run_sync(reports_of)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["report", "month", "key", "value"])
        writer.writerows(r.rows())
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="dealerbot-reports.csv"',
                                 "Cache-Control": "no-store"})

    def users_view(lang: str) -> dict[str, Any]:
        at = now()
        with app.snapshot() as session:
            branches = {b.id: (b.code, b.name_ar if lang == "ar" else b.name_en)
                        for b in session.scalars(select(Branch).order_by(Branch.id))}
            users = [{"id": u.id, "username": u.username, "name": u.display_name, "role": u.role, "active": u.active,
                      "branch": branches[u.branch_id][1] if u.branch_id in branches else None,
                      "last_login": formats.moment(u.last_login_at, lang, app.settings.tz, at) if u.last_login_at else None}
                     for u in session.scalars(select(StaffUser).order_by(StaffUser.username))]
        return {"users": users, "branches": list(branches.values())}

    async def users_page(request: Request, done: str | None = None, error: str | None = None,
                         status: int = 200) -> Response:
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        user, csrf = found
        lang = _language(request)
        if user.role != "admin":
            return _page(request, "error.html", status=403, user=user, csrf_token=csrf,
                         error=text("staff_admins_only", lang))
        values = await anyio.to_thread.run_sync(users_view, lang)
        return _page(request, "users.html", status=status, user=user, csrf_token=csrf, done=done, error=error, **values)

    async def users_action(request: Request) -> Response:
        target, action = request.path_params.get("target"), request.path_params["action"]

        def act(user: StaffUser, form: FormData, lang: str) -> tuple[int, str]:
            with app.transaction() as session:
                if action == "add":
                    made = auth.add_staff(session, str(form.get("username") or ""), str(form.get("role") or ""),
                                          str(form.get("password") or ""), now(), str(form.get("branch") or "") or None,
                                          str(form.get("name") or "") or None)
                    log.info("staff_user_added", by=user.id, staff_user_id=made.id, role=made.role)
                    return 200, text("staff_done_user_added", lang, username=made.username)
                other = session.get(StaffUser, _int(target)) if target else None
                if other is None or action not in ("activate", "deactivate") or other.id == user.id:
                    raise auth.StaffError(text("staff_not_found", lang))
                auth.set_active(session, other, action == "activate")
                log.info("staff_user_active", by=user.id, staff_user_id=other.id, active=other.active)
                return 200, text("staff_done_user_active" if other.active else "staff_done_user_inactive", lang,
                                 username=other.username)

        return await form_action(request, users_page, act, (auth.StaffError,), roles=("admin",),
                                 role_text="staff_admins_only")

    async def elsewhere(request: Request) -> Response:
        if await anyio.to_thread.run_sync(signed_in, request) is None:
            if request.method != "GET":
                return Response("not signed in", status_code=403)
            return RedirectResponse("/staff/login", status_code=303)
        return Response("not found", status_code=404)

    return [
        Route("/staff/login", login_page, methods=["GET"]),
        Route("/staff/login", login_post, methods=["POST"]),
        Route("/staff/logout", logout, methods=["POST"]),
        Route("/staff/", queue_page, methods=["GET"]),
        Route("/staff/tickets/{ticket}", ticket_page, methods=["GET"]),
        Route("/staff/outbox", outbox_page, methods=["GET"]),
        Route("/staff/appointments", appointments_page, methods=["GET"]),
        Route("/staff/users", users_page, methods=["GET"]),
        Route("/staff/users/{action:str}", users_action, methods=["POST"]),
        Route("/staff/users/{target:int}/{action:str}", users_action, methods=["POST"]),
        Route("/staff/reports", reports_page, methods=["GET"]),
        Route("/staff/reports.csv", reports_csv, methods=["GET"]),
        Route("/staff/leads", leads_page, methods=["GET"]),
        Route("/staff/leads/{lead}/status", lead_status, methods=["POST"]),
        Route("/staff/handoffs", handoffs_page, methods=["GET"]),
        Route("/staff/handoffs/{handoff}", handoff_page, methods=["GET"]),
        Route("/staff/handoffs/{handoff}/{action}", handoff_action, methods=["POST"]),
        Route("/staff/appointments/{appointment}/{action}", appointment_action, methods=["POST"]),
        Route("/staff/outbox/{row}/retry", outbox_retry, methods=["POST"]),
        Route("/staff/tickets/{ticket}/{action:str}", ticket_action, methods=["POST"]),
        Route("/staff", lambda request: RedirectResponse("/staff/", status_code=303), methods=["GET"]),
        Route("/staff/{rest:path}", elsewhere, methods=["GET", "POST"]),
    ]


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
