"""Proactive messages: the scans write the outbox once, the dispatcher sends it through the real channels.

Scans run on the demo database (rolled back); the dispatcher runs on a database of its own whose
transactions commit (`live_app`), with python-telegram-bot and the Twilio SDK talking HTTP to local
stand-ins. The clock is injected: tests move it instead of sleeping.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import anyio.to_thread
import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from actions.consent.service import set_consents
from actions.maintenance.service import next_service, plan_for
from bot.channels import Channel
from db.models import (
    ChannelIdentity,
    ChatMessage,
    ConversationState,
    Customer,
    MileageReading,
    OutboxMessage,
    ServiceRecord,
    Vehicle,
    Warranty,
    WarrantyTier,
)
from dealerbot.bootstrap import App, compose
from dealerbot.clock import FixedClock
from dealerbot.settings import load_settings
from scheduler.dispatch import LEASE, DispatchResult, Dispatcher, quiet_until, retry_dead
from scheduler import scans as scans_module
from scheduler.scans import FOLLOW_UP_DAYS, SCANS
from tests.factories import make_appointment, make_customer, make_vehicle
from tests.fakes import FakeNlu
from tests.telegram_standin import BotApiStandin
from tests.twilio_standin import TwilioStandIn

TOKEN = "123456:scheduler-test-token"
STAFF_CHAT = "-1001234"
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "twilio-test-auth-token"
FROM = "whatsapp:+97140000000"


def scan(app: App, name: str) -> dict[str, int]:
    with app.transaction() as session:
        return SCANS[name](session, app.clock.now(), app.settings).as_dict()


def rows(app: App, **where: Any) -> list[OutboxMessage]:
    with app.transaction() as session:
        query = select(OutboxMessage).where(OutboxMessage.channel != "staff").order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(session.scalars(query))


def local_today(app: App) -> date:
    return app.clock.now().astimezone(app.settings.tz).date()


def car_due_in(app: App, days: int, **customer: Any) -> tuple[int, int]:
    """A new customer with a car whose first service falls due in `days` days (by date): (customer, car)."""
    with app.transaction() as session:
        now = app.clock.now()
        owner = make_customer(session, now, **customer)
        car = make_vehicle(session, now, owner)
        _km, months = plan_for(session, car)
        car.purchase_date = local_today(app) + timedelta(days=days) - relativedelta(months=months)
        due = next_service(session, car, local_today(app), app.settings.tz)
        assert due.due_date == local_today(app) + timedelta(days=days)
        return owner.id, car.id


# --- scans -----------------------------------------------------------------------------------------------


def test_a_service_falling_due_is_enqueued_once_however_often_the_scan_runs(demo_app: App) -> None:
    owner, car = car_due_in(demo_app, 10)
    far_owner, far_car = car_due_in(demo_app, 40)
    first = scan(demo_app, "service_reminders")
    mine = [r for r in rows(demo_app, kind="service_due") if r.customer_id in (owner, far_owner)]
    assert [(r.customer_id, r.payload["vehicle_id"], r.payload["stage"]) for r in mine] == [(owner, car, "notice")]
    assert mine[0].idempotency_key == f"service_due:vehicle-{car}:{(local_today(demo_app) + timedelta(days=10)).isoformat()}:notice"
    assert first["enqueued"] >= 1 and first["found"] == first["enqueued"] + first["already_enqueued"] + first["opted_out"]
    again = scan(demo_app, "service_reminders")
    assert again["enqueued"] == 0 and again["already_enqueued"] == first["enqueued"] + first["already_enqueued"]
    assert len(rows(demo_app, kind="service_due")) == first["enqueued"]


def test_a_scan_in_many_small_chunks_finds_and_writes_every_car_once(
        demo_app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk boundaries, and on PostgreSQL each chunk's write overlapping the next chunk's work."""
    monkeypatch.setattr(scans_module, "CHUNK", 2)
    cars = [car_due_in(demo_app, days) for days in (1, 3, 5, 8, 13)]
    first = scan(demo_app, "service_reminders")
    told = {r.payload["vehicle_id"] for r in rows(demo_app, kind="service_due")}
    assert {car for _, car in cars} <= told and len(told) == len(rows(demo_app, kind="service_due"))
    assert first["found"] == first["enqueued"] + first["already_enqueued"] + first["opted_out"]
    again = scan(demo_app, "service_reminders")
    assert again["enqueued"] == 0 and again["already_enqueued"] == first["enqueued"] + first["already_enqueued"]


def test_no_service_reminder_once_a_service_is_booked_or_for_a_customer_who_opted_out(demo_app: App) -> None:
    booked_owner, booked_car = car_due_in(demo_app, 5)
    quiet_owner, _ = car_due_in(demo_app, 5, consent_service_reminders=False)
    with demo_app.transaction() as session:
        car = session.get(Vehicle, booked_car)
        make_appointment(session, demo_app.clock.now(), car, starts_at=demo_app.clock.now() + timedelta(days=3))
    before = scan(demo_app, "service_reminders")
    customers = {r.customer_id for r in rows(demo_app, kind="service_due")}
    assert booked_owner not in customers and quiet_owner not in customers
    assert before["opted_out"] >= 1


def test_one_follow_up_a_week_after_the_notice_when_still_not_booked(demo_app: App, clock: FixedClock) -> None:
    owner, car = car_due_in(demo_app, 3)
    scan(demo_app, "service_reminders")
    [notice] = [r for r in rows(demo_app, kind="service_due") if r.customer_id == owner]
    clock.advance(timedelta(days=3 + FOLLOW_UP_DAYS))
    scan(demo_app, "service_reminders")
    assert [r.payload["stage"] for r in rows(demo_app, kind="service_due") if r.customer_id == owner] == ["notice"]
    with demo_app.transaction() as session:  # the notice went out
        session.get(OutboxMessage, notice.id).status = "sent"
        session.get(OutboxMessage, notice.id).sent_at = clock.now() - timedelta(days=FOLLOW_UP_DAYS)
    scan(demo_app, "service_reminders")
    clock.advance(timedelta(days=30))
    scan(demo_app, "service_reminders")
    stages = [r.payload["stage"] for r in rows(demo_app, kind="service_due") if r.customer_id == owner]
    assert stages == ["notice", "follow_up"]
    with demo_app.transaction() as session:  # serviced: the next cycle starts from it
        session.add(ServiceRecord(vehicle_id=car, service_date=local_today(demo_app), mileage_km=20_000,
                                  work="Periodic service", cost_aed=450, source="workshop", created_at=clock.now()))
    scan(demo_app, "service_reminders")
    assert len([r for r in rows(demo_app, kind="service_due") if r.customer_id == owner]) == 2


def test_a_car_past_its_km_or_reaching_it_soon_is_reminded_before_its_date(demo_app: App) -> None:
    """Due by km: a reading already past the km (months before the date), and a usual driving that
    reaches the km within the notice days; a car far from both is not reminded."""
    cars = {}
    with demo_app.transaction() as session:
        now = demo_app.clock.now()
        today = local_today(demo_app)
        for name, (then_km, now_km) in {"passed": (0, 12_500), "soon": (0, 9_400), "far": (0, 3_000)}.items():
            owner = make_customer(session, now)
            car = make_vehicle(session, now, owner)
            km, _months = plan_for(session, car)
            car.purchase_date = today - timedelta(days=60)  # the date is months away
            scale = km / 10_000
            session.add(ServiceRecord(vehicle_id=car.id, service_date=today - timedelta(days=60),
                                      mileage_km=int(then_km * scale), work="Periodic service", cost_aed=450,
                                      source="workshop", created_at=now))
            session.add(MileageReading(vehicle_id=car.id, reading_km=int(now_km * scale), recorded_at=now,
                                       source="customer"))
            session.flush()
            cars[name] = (owner.id, car.id)
    scan(demo_app, "service_reminders")
    told = {r.customer_id: r.payload for r in rows(demo_app, kind="service_due")}
    assert told[cars["passed"][0]]["by"] == "km" and told[cars["passed"][0]]["vehicle_id"] == cars["passed"][1]
    assert cars["soon"][0] in told  # 9,400 of 10,000 km in 60 days: the rest within the notice days
    assert cars["far"][0] not in told


def test_appointment_reminders_the_day_before_and_two_hours_before(demo_app: App, clock: FixedClock) -> None:
    now = clock.now()
    with demo_app.transaction() as session:
        owner = make_customer(session, now)
        car = make_vehicle(session, now, owner)
        tomorrow = make_appointment(session, now, car, starts_at=now + timedelta(hours=23))
        soon = make_appointment(session, now, car, starts_at=now + timedelta(hours=1, minutes=30))
        make_appointment(session, now, car, starts_at=now + timedelta(hours=5), status="cancelled")
        later = make_appointment(session, now, car, starts_at=now + timedelta(days=3))
        ids = (tomorrow.id, soon.id, later.id)
    result = scan(demo_app, "appointment_reminders")
    stages = {r.payload["appointment_id"]: r.payload["stage"] for r in rows(demo_app, kind="appointment_reminder")}
    assert stages == {ids[0]: "day_before", ids[1]: "two_hours"}
    assert result == {"found": 2, "enqueued": 2, "already_enqueued": 0, "opted_out": 0}
    clock.advance(timedelta(hours=21, minutes=30))  # 1.5 hours before the first
    scan(demo_app, "appointment_reminders")
    stages = sorted((r.payload["appointment_id"], r.payload["stage"]) for r in rows(demo_app, kind="appointment_reminder"))
    assert stages == sorted([(ids[0], "day_before"), (ids[1], "two_hours"), (ids[0], "two_hours")])


def test_warranty_end_thirty_days_before_and_in_the_last_week(demo_app: App, clock: FixedClock) -> None:
    now = clock.now()
    today = local_today(demo_app)
    with demo_app.transaction() as session:
        owner = make_customer(session, now)
        car = make_vehicle(session, now, owner)
        tier = session.scalars(select(WarrantyTier).order_by(WarrantyTier.rank)).first()
        warranty = Warranty(contract_number="WT-SCHED-1", vehicle_id=car.id, tier_id=tier.id,
                            start_date=today - timedelta(days=700), end_date=today + timedelta(days=25),
                            mileage_limit_km=100_000, covered_components=[], excluded_components=[], created_at=now)
        session.add(warranty)
        session.flush()
        warranty_id = warranty.id
    scan(demo_app, "warranty_expiry")
    clock.advance(timedelta(days=10))
    scan(demo_app, "warranty_expiry")
    clock.advance(timedelta(days=10))  # 5 days left
    scan(demo_app, "warranty_expiry")
    mine = [r.payload["stage"] for r in rows(demo_app, kind="warranty_expiry") if r.payload["warranty_id"] == warranty_id]
    assert mine == ["30_days", "last_week"]


# --- the dispatcher --------------------------------------------------------------------------------------


@dataclass
class Outbound:
    app: App
    clock: FixedClock
    telegram: BotApiStandin
    twilio: TwilioStandIn
    channels: dict[str, Channel]

    async def dispatch(self) -> dict[str, int]:
        return (await Dispatcher(self.app, self.channels).run_once()).as_dict()


@pytest.fixture(scope="module")
def twilio_server() -> Any:
    with TwilioStandIn().running() as server:
        yield server


@asynccontextmanager
async def outbound(app: App, twilio: TwilioStandIn, **settings: Any) -> AsyncIterator[Outbound]:
    twilio.reset()
    api = BotApiStandin(token=TOKEN)
    await api.start()
    app.settings = load_settings(
        database_url=app.settings.database_url, telegram_bot_token=TOKEN, telegram_api_base_url=api.url,
        twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_whatsapp_from=FROM,
        twilio_api_base_url=twilio.url, staff_telegram_chat_id=STAFF_CHAT, **settings,
    )
    services = compose(app, nlu=FakeNlu(), channels=["telegram", "whatsapp"])
    telegram = services.channels["telegram"]
    telegram.retry_delay = 0.01  # type: ignore[attr-defined]
    telegram.send_attempts = 1  # type: ignore[attr-defined]  # the outbox retries, not the channel
    services.channels["whatsapp"].retry_delay = 0.01  # type: ignore[attr-defined]
    services.channels["whatsapp"].max_attempts = 1  # type: ignore[attr-defined]
    await telegram.start_sending()  # type: ignore[attr-defined]
    await services.channels["whatsapp"].start()
    try:
        assert isinstance(app.clock, FixedClock)
        yield Outbound(app, app.clock, api, twilio, services.channels)
    finally:
        await services.aclose()
        await api.close()


def link(app: App, customer_id: int, channel: str, external_id: str, wrote_ago: timedelta | None) -> int:
    with app.transaction() as session:
        now = app.clock.now()
        identity = ChannelIdentity(customer_id=customer_id, channel=channel, external_id=external_id,
                                   created_at=now - timedelta(days=30),
                                   last_inbound_at=now - wrote_ago if wrote_ago is not None else None)
        session.add(identity)
        session.flush()
        return identity.id


async def test_a_reminder_reaches_telegram_with_buttons_and_a_number_picks_book_now(
        live_app: App, twilio_server: TwilioStandIn) -> None:
    owner, car = car_due_in(live_app, 7, name="Ahmed Test")
    identity = link(live_app, owner, "telegram", "5550001", timedelta(days=2))
    scan(live_app, "service_reminders")
    async with outbound(live_app, twilio_server) as out:
        result = await out.dispatch()
        assert result["sent"] >= 1 and result["dead"] == 0
        [params] = out.telegram.sent(5550001)
        assert params["text"].startswith("Hello Ahmed,") and "next service" in params["text"]
        buttons = [b for row in params["reply_markup"]["inline_keyboard"] for b in row]
        assert buttons[0]["callback_data"] == f"intent:book_service?vehicle={car}"
    [row] = [r for r in rows(live_app, kind="service_due") if r.customer_id == owner]
    assert (row.status, row.channel, row.recipient, row.attempts) == ("sent", "telegram", "5550001", 1)
    with live_app.transaction() as session:
        state = session.scalar(select(ConversationState).where(ConversationState.channel_identity_id == identity))
        assert [o["id"] for o in state.data["options"]][0] == f"intent:book_service?vehicle={car}"
        logged = session.scalars(select(ChatMessage).where(ChatMessage.channel_identity_id == identity)).all()
        assert [m.direction for m in logged] == ["out"]
    # hours later the customer answers "1": the booking starts with that car
    live_app.clock.advance(timedelta(hours=5))  # type: ignore[attr-defined]
    from bot.core import Assistant
    from bot.metrics import Metrics
    from bot.serial import KeyedLocks
    from actions.kit.types import InboundMessage

    assistant = Assistant(transaction=live_app.transaction, settings=live_app.settings, clock=live_app.clock,
                          nlu=FakeNlu(), locks=KeyedLocks(), metrics=Metrics())
    replies = await assistant.handle(InboundMessage("telegram", "5550001", "1", received_at=live_app.clock.now()))
    said = " ".join(r.text for r in replies)
    assert "Corolla" in said or any("Corolla" in o.label for r in replies for o in r.options), said


async def test_a_customer_who_never_wrote_gets_the_whatsapp_template_or_nothing_without_one(
        live_app: App, twilio_server: TwilioStandIn) -> None:
    with_template, _ = car_due_in(live_app, 7, phone="+971501110001", name="Sara Test")
    without, _ = car_due_in(live_app, 7, phone="+971501110002", language="ar")
    scan(live_app, "service_reminders")
    async with outbound(live_app, twilio_server, whatsapp_templates={"service_due.en": "HX" + "a" * 32}) as out:
        result = await out.dispatch()
        to_sara = [m for m in out.twilio.messages if m.to == "whatsapp:+971501110001"]
        assert len(to_sara) == 1 and to_sara[0].form["ContentSid"] == "HX" + "a" * 32
        assert json.loads(to_sara[0].form["ContentVariables"])["1"] == "Sara"
        assert not [m for m in out.twilio.requests if m.to == "whatsapp:+971501110002"]
        assert result["no_template"] >= 1
    statuses = {r.customer_id: (r.status, r.last_error) for r in rows(live_app, kind="service_due")}
    assert statuses[with_template][0] == "sent"
    assert statuses[without][0] == "skipped" and "service_due.ar" in statuses[without][1]


async def test_within_the_24_hour_window_whatsapp_takes_free_text(live_app: App, twilio_server: TwilioStandIn) -> None:
    owner, _ = car_due_in(live_app, 7, phone="+971501110003", language="ar", name="فاطمة")
    link(live_app, owner, "whatsapp", "+971501110003", timedelta(hours=3))
    scan(live_app, "service_reminders")
    async with outbound(live_app, twilio_server) as out:
        await out.dispatch()
        [message] = [m for m in out.twilio.messages if m.to == "whatsapp:+971501110003"]
        assert message.body.startswith("مرحباً فاطمة") and "1. احجز الآن" in message.body


async def test_quiet_hours_hold_a_message_until_nine_and_a_safety_kind_may_pass(
        live_app: App, twilio_server: TwilioStandIn) -> None:
    owner, _ = car_due_in(live_app, 7)
    link(live_app, owner, "telegram", "5550002", timedelta(days=1))
    clock = live_app.clock
    assert isinstance(clock, FixedClock)
    clock.set(datetime(2026, 11, 26, 22, 30, tzinfo=live_app.settings.tz))
    scan(live_app, "service_reminders")
    async with outbound(live_app, twilio_server) as out:
        result = await out.dispatch()
        assert result["sent"] == 0 and result["deferred_quiet_hours"] >= 1
        [row] = [r for r in rows(live_app) if r.customer_id == owner]
        assert row.status == "pending"
        assert row.next_attempt_at == datetime(2026, 11, 27, 9, 0, tzinfo=live_app.settings.tz)
        clock.set(datetime(2026, 11, 27, 8, 59, tzinfo=live_app.settings.tz))
        assert (await out.dispatch())["sent"] == 0
        clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=live_app.settings.tz))
        assert (await out.dispatch())["sent"] >= 1
        assert len(out.telegram.sent(5550002)) == 1
    tz = live_app.settings.tz
    assert quiet_until(datetime(2026, 11, 27, 3, 0, tzinfo=tz), tz, live_app.settings.quiet) == datetime(2026, 11, 27, 9, 0, tzinfo=tz)
    assert quiet_until(datetime(2026, 11, 27, 12, 0, tzinfo=tz), tz, live_app.settings.quiet) is None


async def test_an_opt_out_cancels_queued_rows_and_one_after_the_claim_is_honoured_at_send_time(
        live_app: App, twilio_server: TwilioStandIn) -> None:
    owner, _ = car_due_in(live_app, 7)
    link(live_app, owner, "telegram", "5550003", timedelta(days=1))
    scan(live_app, "service_reminders")
    with live_app.transaction() as session:
        set_consents(session, live_app.clock.now(), session.get(Customer, owner), ["service_reminders"], False)
    [row] = [r for r in rows(live_app) if r.customer_id == owner]
    assert row.status == "cancelled"
    with live_app.transaction() as session:  # a row that was queued when the customer opted out
        session.get(OutboxMessage, row.id).status = "pending"
    async with outbound(live_app, twilio_server) as out:
        await out.dispatch()
        assert out.telegram.sent(5550003) == []
    assert [r.status for r in rows(live_app) if r.customer_id == owner] == ["cancelled"]


async def test_failures_retry_with_backoff_then_dead_letter_and_staff_can_retry(
        live_app: App, twilio_server: TwilioStandIn) -> None:
    owner, _ = car_due_in(live_app, 7)
    link(live_app, owner, "telegram", "5550004", timedelta(days=1))
    scan(live_app, "service_reminders")
    async with outbound(live_app, twilio_server, outbox_max_attempts=3) as out:
        out.telegram.fail("sendMessage", "500", times=10)
        first = await out.dispatch()
        assert first["failed"] >= 1
        [row] = [r for r in rows(live_app) if r.customer_id == owner]
        assert (row.status, row.attempts) == ("pending", 1) and row.next_attempt_at > out.clock.now()
        assert (await out.dispatch())["failed"] == 0  # not due yet: backoff
        out.clock.advance(timedelta(minutes=2))
        await out.dispatch()
        out.clock.advance(timedelta(minutes=5))
        third = await out.dispatch()
        [row] = [r for r in rows(live_app) if r.customer_id == owner]
        assert (row.status, row.attempts, third["dead"]) == ("dead", 3, 1)
        with live_app.transaction() as session:
            assert retry_dead(session, out.clock.now(), [row.id]) == 1
        out.telegram._failures.clear()
        assert (await out.dispatch())["sent"] >= 1
    assert [r.status for r in rows(live_app) if r.customer_id == owner] == ["sent"]


async def test_a_rate_limit_waits_as_long_as_the_platform_asks(live_app: App, twilio_server: TwilioStandIn) -> None:
    owner, _ = car_due_in(live_app, 7)
    link(live_app, owner, "telegram", "5550005", timedelta(days=1))
    scan(live_app, "service_reminders")
    async with outbound(live_app, twilio_server) as out:
        out.telegram.fail("sendMessage", "429", times=1, retry_after=600)
        await out.dispatch()
        [row] = [r for r in rows(live_app) if r.customer_id == owner]
        assert row.status == "pending" and row.next_attempt_at >= out.clock.now() + timedelta(seconds=600)


async def test_a_blocked_telegram_falls_back_to_whatsapp(live_app: App, twilio_server: TwilioStandIn) -> None:
    owner, _ = car_due_in(live_app, 7, phone="+971501110005")
    link(live_app, owner, "telegram", "5550006", timedelta(hours=1))
    link(live_app, owner, "whatsapp", "+971501110005", timedelta(hours=5))
    scan(live_app, "service_reminders")
    async with outbound(live_app, twilio_server) as out:
        out.telegram.fail("sendMessage", "403", times=1)
        result = await out.dispatch()
        assert result["sent"] >= 1
        assert [m.to for m in out.twilio.messages] == ["whatsapp:+971501110005"]
    [row] = [r for r in rows(live_app) if r.customer_id == owner]
    assert (row.status, row.channel) == ("sent", "whatsapp")
    with live_app.transaction() as session:
        blocked = session.scalar(select(ChannelIdentity).where(ChannelIdentity.external_id == "5550006"))
        assert blocked.unreachable_since is not None


async def test_a_row_left_sending_by_a_dead_dispatcher_is_sent_when_its_lease_ends(
        live_app: App, twilio_server: TwilioStandIn) -> None:
    owner, _ = car_due_in(live_app, 7)
    link(live_app, owner, "telegram", "5550007", timedelta(days=1))
    scan(live_app, "service_reminders")
    [row] = [r for r in rows(live_app) if r.customer_id == owner]
    with live_app.transaction() as session:  # claimed, then the process died
        claimed = session.get(OutboxMessage, row.id)
        claimed.status, claimed.attempts, claimed.next_attempt_at = "sending", 1, live_app.clock.now() + LEASE
    async with outbound(live_app, twilio_server) as out:
        await out.dispatch()
        assert out.telegram.sent(5550007) == []
        out.clock.advance(LEASE)
        await out.dispatch()
        assert len(out.telegram.sent(5550007)) == 1
    assert [(r.status, r.attempts) for r in rows(live_app) if r.customer_id == owner] == [("sent", 2)]


async def test_a_row_another_dispatcher_took_between_the_read_and_the_mark_is_left_to_it(
        live_app: App, twilio_server: TwilioStandIn) -> None:
    """SQLite's claim reads and prepares the batch in a snapshot, then marks each row only if it is still
    as read: a row claimed by another dispatcher meanwhile is not sent twice (run on both databases)."""
    mine, _ = car_due_in(live_app, 7)
    theirs, _ = car_due_in(live_app, 7)
    link(live_app, mine, "telegram", "5550011", timedelta(days=1))
    link(live_app, theirs, "telegram", "5550012", timedelta(days=1))
    scan(live_app, "service_reminders")
    [taken] = [r for r in rows(live_app) if r.customer_id == theirs]

    class Racing(Dispatcher):
        @staticmethod
        def _preload(session: Any, rows_: Any) -> Any:
            with live_app.transaction() as other:  # another dispatcher claims that row now
                row = other.get(OutboxMessage, taken.id)
                row.status, row.attempts, row.next_attempt_at = "sending", 1, live_app.clock.now() + LEASE
            return Dispatcher._preload(session, rows_)

    async with outbound(live_app, twilio_server) as out:
        counted = DispatchResult()
        works, _looked_at = await anyio.to_thread.run_sync(Racing(live_app, out.channels)._claim_checked, counted)
        assert mine in {w.customer_id for w in works} and theirs not in {w.customer_id for w in works}
    assert [(r.status, r.attempts) for r in rows(live_app) if r.customer_id == theirs] == [("sending", 1)]
    assert [(r.status, r.attempts) for r in rows(live_app) if r.customer_id == mine] == [("sending", 1)]


async def test_staff_alerts_reach_the_staff_chat_with_the_ticket(live_app: App, twilio_server: TwilioStandIn) -> None:
    from actions.kit.alerts import alert_staff

    with live_app.transaction() as session:
        alert_staff(session, live_app.clock.now(), customer_id=None, kind="complaint", key="alert:complaint:test",
                    payload={"ticket": "C-77", "category": "service_quality", "urgent": True}, recipient="customer-care")
    async with outbound(live_app, twilio_server) as out:
        await out.dispatch()
        [text] = out.telegram.texts(int(STAFF_CHAT))
        assert text.splitlines()[0] == "URGENT New complaint — customer-care · C-77"
        assert "category: service_quality" in text


# --- the command -----------------------------------------------------------------------------------------


def test_run_once_prints_the_counts_of_every_job_and_of_the_dispatch(live_app: App) -> None:
    owner, _ = car_due_in(live_app, 7)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "STAFF_"))}
    env.update(DATABASE_URL=live_app.settings.database_url, LOG_LEVEL="WARNING")
    now = live_app.clock.now().isoformat()
    done = subprocess.run([sys.executable, "-m", "dealerbot.cli", "scheduler", "run-once", "--now", now],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == {*SCANS, "dispatch"}
    for name in SCANS:
        assert set(report[name]) == {"found", "enqueued", "already_enqueued", "opted_out"}
    assert set(report["dispatch"]) == {"sent", "deferred_quiet_hours", "failed", "dead", "no_template"}
    assert report["service_reminders"]["enqueued"] >= 1
    # no channel is configured here: every row waits to be tried again
    assert report["dispatch"]["failed"] >= 1 and report["dispatch"]["sent"] == 0
    again = json.loads(subprocess.run([sys.executable, "-m", "dealerbot.cli", "scheduler", "run-once", "--now", now],
                                      capture_output=True, text=True, env=env, timeout=120).stdout)
    assert again["service_reminders"]["enqueued"] == 0
    assert again["service_reminders"]["already_enqueued"] == report["service_reminders"]["enqueued"]
    assert any(r.customer_id == owner for r in rows(live_app, kind="service_due"))
    bad = subprocess.run([sys.executable, "-m", "dealerbot.cli", "scheduler", "run-once", "--now", "tomorrow"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "ISO-8601" in bad.stderr


# --- recalls, surveys, stock, deadlines --------------------------------------------------------------------


def test_a_new_recall_tells_each_affected_owner_once_and_not_the_cars_already_repaired(demo_app: App) -> None:
    from db.models import Recall, RecallCompletion

    now = demo_app.clock.now()
    with demo_app.transaction() as session:
        owner = make_customer(session, now)
        hit = make_vehicle(session, now, owner, make="Kia", model="Sorento", year=2020)
        done = make_vehicle(session, now, owner, make="Kia", model="Sorento", year=2021)
        make_vehicle(session, now, owner, make="Kia", model="Sorento", year=2015)  # outside the years
        make_vehicle(session, now, None, make="Kia", model="Sorento", year=2020)  # no owner to tell
        recall = Recall(campaign_code="KIA-TEST-1", make="KIA", model="sorento", year_from=2019, year_to=2022,
                        title_en="Seat belt", title_ar="حزام الأمان", description_en="The buckle may not latch.",
                        description_ar="قد لا يُقفل المشبك.", remedy_en="Replace the buckle.", remedy_ar="استبدال المشبك.",
                        published_on=local_today(demo_app), active=True)
        session.add(recall)
        session.flush()
        session.add(RecallCompletion(recall_id=recall.id, vehicle_id=done.id, completed_on=local_today(demo_app)))
        ids = (hit.id, recall.id)
    scan(demo_app, "recall_notices")
    again = scan(demo_app, "recall_notices")
    mine = [(r.payload["vehicle_id"], r.payload["recall_id"]) for r in rows(demo_app, kind="recall_notice")
            if r.payload["recall_id"] == ids[1]]
    assert mine == [ids]
    assert again["enqueued"] == 0 and again["already_enqueued"] >= 1


def test_a_survey_after_a_completed_visit_and_a_low_score_from_its_button_opens_a_complaint(
        live_app: App, twilio_server: TwilioStandIn) -> None:
    now = live_app.clock.now()
    with live_app.transaction() as session:
        owner = make_customer(session, now, name="Omar Test")
        car = make_vehicle(session, now, owner)
        visit = make_appointment(session, now, car, starts_at=now - timedelta(hours=4), status="completed")
        visit_id, owner_id = visit.id, owner.id
    link(live_app, owner_id, "telegram", "5550010", timedelta(days=1))
    surveyed = scan(live_app, "feedback_surveys")
    assert surveyed["enqueued"] >= 1
    import asyncio

    async def go() -> list[dict[str, Any]]:
        async with outbound(live_app, twilio_server) as out:
            await out.dispatch()
            return out.telegram.sent(5550010)

    [params] = asyncio.run(go())
    buttons = [b["callback_data"] for row in params["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons[-1] == f"intent:feedback?rating=1&appointment={visit_id}"
    from actions.kit.types import InboundMessage
    from bot.core import Assistant
    from bot.metrics import Metrics
    from bot.serial import KeyedLocks
    from db.models import Complaint, Feedback

    assistant = Assistant(transaction=live_app.transaction, settings=live_app.settings, clock=live_app.clock,
                          nlu=FakeNlu(), locks=KeyedLocks(), metrics=Metrics())
    asyncio.run(assistant.handle(InboundMessage("telegram", "5550010", "", payload=f"intent:feedback?rating=2&appointment={visit_id}")))
    asyncio.run(assistant.handle(InboundMessage("telegram", "5550010", "the car came back dirty and late")))
    with live_app.transaction() as session:
        rated = session.scalar(select(Feedback).where(Feedback.customer_id == owner_id))
        assert (rated.rating, rated.appointment_id) == (2, visit_id)
        complaint = session.get(Complaint, rated.complaint_id)
        assert complaint is not None and complaint.vehicle_id == car.id
    assert scan(live_app, "feedback_surveys")["found"] == surveyed["found"] - 1  # rated: no survey any more


def test_new_stock_that_fits_a_saved_wish_is_told_once(demo_app: App) -> None:
    from decimal import Decimal

    from db.models import Branch, StockVehicle, UpgradeWish

    now = demo_app.clock.now()
    with demo_app.transaction() as session:
        owner = make_customer(session, now)
        wish = UpgradeWish(customer_id=owner.id, make="Nissan", model="Patrol", min_year=2022,
                           max_budget_aed=Decimal(250_000), active=True, created_at=now - timedelta(days=2))
        session.add(wish)
        branch = session.scalars(select(Branch)).first()

        def stock(vin: str, year: int, price: int, arrived: date) -> StockVehicle:
            car = StockVehicle(vin=vin, make="Nissan", model="Patrol", year=year, mileage_km=20_000,
                               price_aed=Decimal(price), branch_id=branch.id, arrived_on=arrived, status="available")
            session.add(car)
            return car

        fits = stock("JN8AY2NY0N9000001", 2023, 230_000, local_today(demo_app))
        stock("JN8AY2NY0N9000002", 2023, 280_000, local_today(demo_app))  # over budget
        stock("JN8AY2NY0N9000003", 2020, 150_000, local_today(demo_app))  # too old
        stock("JN8AY2NY0N9000004", 2023, 200_000, local_today(demo_app) - timedelta(days=30))  # there before the wish
        session.flush()
        ids = (wish.id, fits.id)
    scan(demo_app, "stock_alerts")
    scan(demo_app, "stock_alerts")
    mine = [(r.payload["wish_id"], r.payload["stock_id"]) for r in rows(demo_app, kind="stock_alert")
            if r.payload["wish_id"] == ids[0]]
    assert mine == [ids]


def test_a_missed_deadline_escalates_the_case_once_alerts_staff_and_tells_the_customer(demo_app: App, clock: FixedClock) -> None:
    from actions.complaints.service import open_complaint
    from db.models import Complaint

    with demo_app.transaction() as session:
        owner = make_customer(session, clock.now())
        complaint = open_complaint(session, clock.now(), tz=demo_app.settings.tz, response_hours=48,
                                   customer_id=owner.id, vehicle_id=None, category="service_quality",
                                   description="Nobody called me back.")
        ticket, complaint_id = complaint.ticket_id, complaint.id
    clock.advance(timedelta(hours=49))
    first = scan(demo_app, "case_deadlines")
    clock.advance(timedelta(hours=1))
    scan(demo_app, "case_deadlines")
    progress = [r for r in rows(demo_app, kind="case_progress") if r.payload["ticket"] == ticket]
    assert [r.payload["deadline"] for r in progress] == ["answer"] and first["enqueued"] >= 1
    with demo_app.transaction() as session:
        assert session.get(Complaint, complaint_id).escalation_level == 1
        alerts = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "staff",
                                                             OutboxMessage.kind == "case_breach")).all()
        assert [a.payload["ticket"] for a in alerts if a.payload["ticket"] == ticket] == [ticket]


# --- catching up, and one leader ----------------------------------------------------------------------------


async def test_a_scheduler_down_for_a_day_sends_what_fell_due_once_in_the_morning(
        live_app: App, twilio_server: TwilioStandIn) -> None:
    from scheduler.run import run_once

    clock = live_app.clock
    assert isinstance(clock, FixedClock)
    tz = live_app.settings.tz
    clock.set(datetime(2026, 11, 26, 20, 0, tzinfo=tz))
    owner, _ = car_due_in(live_app, 14)  # its notice falls due tomorrow (14 days ahead), while we are down
    link(live_app, owner, "telegram", "5550020", timedelta(days=1))
    with live_app.transaction() as session:
        car = make_vehicle(session, clock.now(), session.get(Customer, owner))
        visit = make_appointment(session, clock.now(), car, starts_at=datetime(2026, 11, 28, 8, 0, tzinfo=tz))
        visit_id = visit.id
    clock.set(datetime(2026, 11, 27, 3, 0, tzinfo=tz))  # back up a day later, at night
    async with outbound(live_app, twilio_server) as out:
        night = await run_once(live_app, out.channels)
        assert night["service_reminders"]["enqueued"] >= 1 and night["appointment_reminders"]["enqueued"] == 0
        assert night["dispatch"]["sent"] == 0 and night["dispatch"]["deferred_quiet_hours"] >= 1
        clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=tz))
        morning = await run_once(live_app, out.channels)
        clock.set(datetime(2026, 11, 27, 9, 30, tzinfo=tz))
        later = await run_once(live_app, out.channels)
        texts = out.telegram.texts(5550020)
    assert morning["dispatch"]["sent"] >= 2 and later["dispatch"]["sent"] == 0
    assert len([t for t in texts if "next service" in t]) == 1  # the service notice, once
    assert len([t for t in texts if "appointment tomorrow" in t]) == 1  # the day-before reminder, once
    assert any(r.payload.get("appointment_id") == visit_id for r in rows(live_app, kind="appointment_reminder"))


def test_one_leader_at_a_time_and_the_lock_goes_with_its_holder(live_app: App) -> None:
    from scheduler.service import leader_lock

    first, second = leader_lock(live_app), leader_lock(live_app)
    try:
        assert first.try_acquire() and first.held()
        assert not second.try_acquire()
        first.release()
        assert not first.held()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()


async def test_serve_runs_the_scheduler_in_its_lifespan_with_jobs_of_stable_ids(live_app: App) -> None:
    from bot.web import create_app
    from db.models import SCHEDULER_JOBS_TABLE

    services = compose(live_app, nlu=FakeNlu(), channels=[])
    asgi = create_app(services, scheduler=True)

    def job_ids() -> list[str]:
        with live_app.transaction() as session:
            return sorted(session.scalars(select(SCHEDULER_JOBS_TABLE.c.id)))

    import asyncio

    async with asgi.router.lifespan_context(asgi):
        for _ in range(100):  # the database is read off the event loop, as the app does
            if len(await asyncio.to_thread(job_ids)) == len(SCANS):
                break
            await asyncio.sleep(0.05)
    assert job_ids() == sorted(f"scan:{name}" for name in SCANS)
