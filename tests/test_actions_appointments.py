"""Appointments: book_service, reschedule, cancel, check — scenarios in English and Arabic, the free-text
time parser on its own, the slot engine, and the race for the last slot on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from actions.appointments import service as booking
from actions.appointments import slots
from actions.kit.catalog import text
from actions.kit.when import When, parse_when
from db.models import Appointment, Bay, Branch, ChannelIdentity, ConversationState, Customer, ServiceType, Vehicle
from tests.conftest import TEST_NOW

DUBAI = ZoneInfo("Asia/Dubai")
AHMED = "+971501234567"
FATIMA = "+971552345678"
STRANGER = "+971509999999"
LOCAL_NOW = datetime(2026, 11, 26, 10, 0)  # Thursday, Dubai


# --- the free-text time parser on its own ------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("tomorrow after 6", When(date(2026, 11, 27), time(18, 0), None)),
        ("الأحد الساعة ١٠", When(date(2026, 11, 29), time(10, 0), None, exact=True)),
        ("next Sat morning", When(date(2026, 11, 28), time(7, 0), time(12, 0))),
        ("باجر العصر", When(date(2026, 11, 27), time(14, 0), time(18, 0))),
        ("بكرة الصبح", When(date(2026, 11, 27), time(7, 0), time(12, 0))),
        ("بعد باجر بعد الساعة ٥", When(date(2026, 11, 28), time(17, 0), None)),
        ("السبت المسا", When(date(2026, 11, 28), time(17, 0), time(22, 0))),
        ("tomorrow at 10:30", When(date(2026, 11, 27), time(10, 30), None, exact=True)),
        ("Saturday evening", When(date(2026, 11, 28), time(17, 0), time(22, 0))),
        ("sunday at 2", When(date(2026, 11, 29), time(14, 0), None, exact=True)),
        ("next monday before 11", When(date(2026, 11, 30), None, time(11, 0))),
        ("28/11 at 9", When(date(2026, 11, 28), time(9, 0), None, exact=True)),
        ("Dec 3 at 11am", When(date(2026, 12, 3), time(11, 0), None, exact=True)),
        ("4 ديسمبر", When(date(2026, 12, 4))),
        ("الخميس الجاي", When(date(2026, 12, 3))),
        ("يوم السبت الساعة ٩ الصبح", When(date(2026, 11, 28), time(9, 0), None, exact=True)),
        ("الأحد ١٠ صباحا", When(date(2026, 11, 29), time(10, 0), None, exact=True)),
        ("tonight", When(date(2026, 11, 26), time(17, 0), time(22, 0))),
        ("after 6", When(None, time(18, 0), None)),
        ("at 4pm", When(None, time(16, 0), None, exact=True)),
        # Arabizi
        ("yom el thulatha", When(date(2026, 12, 1))),
        ("yom el tholatha el sob7", When(date(2026, 12, 1), time(7, 0), time(12, 0))),
        ("bukra el 3asr", When(date(2026, 11, 27), time(14, 0), time(18, 0))),
        ("el khamis ba3d 6", When(date(2026, 12, 3), time(18, 0), None)),
        ("bukra el sa3a 10", When(date(2026, 11, 27), time(10, 0), None, exact=True)),
        ("yom el a7ad gabl 11", When(date(2026, 11, 29), None, time(11, 0))),
        # the day wanted after one that is not, a window, a greeting that is no time
        ("yom el sabt 3indi dawam, 5aleeha el a7ad", When(date(2026, 11, 29))),
        ("a family thing tmrw evening, can we shift it to monday, like 6-7pm", When(date(2026, 11, 30), time(18, 0),
                                                                                   time(19, 0))),
        ("السبت عندي دوام، خليه الأحد", When(date(2026, 11, 29))),
        ("مساء الخير، بكرة الساعة ١٠", When(date(2026, 11, 27), time(10, 0), None, exact=True)),
    ],
)
def test_parse_when_understands_customers(said: str, expected: When) -> None:
    assert parse_when(said, LOCAL_NOW) == expected


@pytest.mark.parametrize("said", ["hello", "purple elephant", "مرحبا", "", "مساء الخير", "na3am", "good morning"])
def test_parse_when_names_nothing(said: str) -> None:
    assert parse_when(said, LOCAL_NOW) is None


# --- helpers -------------------------------------------------------------------------------------------


def _customer(session: Session, phone: str) -> Customer:
    return session.scalars(select(Customer).where(Customer.phone == phone)).one()


def _appointments(demo_app, phone: str) -> list[Appointment]:  # type: ignore[no-untyped-def]
    with demo_app.transaction() as session:
        customer = _customer(session, phone)
        return list(session.scalars(select(Appointment).where(Appointment.customer_id == customer.id)
                                    .order_by(Appointment.id)))


def _step(demo_app, phone: str) -> tuple[str | None, str | None]:  # type: ignore[no-untyped-def]
    with demo_app.transaction() as session:
        state = session.scalars(
            select(ConversationState).join(ChannelIdentity).where(ChannelIdentity.external_id == phone)
        ).one()
        return state.flow, state.step


def _book_direct(demo_app, phone: str, branch_code: str, at: datetime, service_code: str = "oil_change"):  # type: ignore[no-untyped-def]
    """A booking made straight through the engine (for the other actions' tests)."""
    with demo_app.transaction() as session:
        customer = _customer(session, phone)
        vehicle = session.scalars(select(Vehicle).where(Vehicle.customer_id == customer.id).order_by(Vehicle.id)).first()
        branch = session.scalars(select(Branch).where(Branch.code == branch_code)).one()
        service = session.scalars(select(ServiceType).where(ServiceType.code == service_code)).one()
        need = slots.Need.for_service(branch.id, service)
        appointment = booking.book(session, customer_id=customer.id, vehicle_id=vehicle.id, service=service,
                                 need=need, at=at, now=TEST_NOW, price=service.price_aed, discount_aed=Decimal(0))
        return appointment.reference


def _answer_until(c, step_answers: dict[str, str], demo_app, phone: str, stop: str, limit: int = 8) -> None:  # type: ignore[no-untyped-def]
    """Answer each step the flow asks (whatever the NLU prefilled) until it reaches `stop`."""
    for _ in range(limit):
        flow, step = _step(demo_app, phone)
        if step == stop:
            return
        assert step in step_answers, (flow, step, c.last.text)
        c.say(step_answers[step])
    raise AssertionError(f"never reached {stop}")


# --- book_service ---------------------------------------------------------------------------------------


def test_book_service_english_happy_path_with_plan_discount_and_courtesy_car(chat, demo_app) -> None:
    c = chat(AHMED)
    c.say("I'd like to book an oil change")
    assert c.last.text == text("appt_ask_vehicle", "en")
    assert any("Land Cruiser" in o for o in c.options) and any("Lexus" in o for o in c.options)
    c.say("purple")  # not one of the cars: asked again
    assert c.last.text == text("appt_ask_vehicle", "en")
    land_cruiser = next(i for i, o in enumerate(c.options, 1) if "Land Cruiser" in o)
    c.say(str(land_cruiser))
    assert "295 AED" in c.last.text and "45 min" in c.last.text
    assert "Sharjah" in " ".join(c.options)
    c.say("Dubai Service Centre (Al Quoz)")
    assert _step(demo_app, AHMED) == ("book_service", "slot")
    c.say("tomorrow after 6")
    assert c.last.text == text("appt_slots_fit", "en", branch="Dubai Service Centre (Al Quoz)")
    assert c.options and all(o.startswith("Fri 27 Nov") and o[-5:] >= "18:00" for o in c.options)
    first = c.options[0]
    c.say("1")
    assert first in c.last.text
    courtesy = next(i for i, o in enumerate(c.options, 1) if "Courtesy car" in o)
    assert any("Mobile service" in o for o in c.options)  # oil change is mobile-eligible, Dubai offers it
    assert any("Express lane" in o for o in c.options)
    c.say(str(courtesy))
    c.say("Continue")
    assert _step(demo_app, AHMED) == ("book_service", "confirm")
    assert "Care 2 Years" in c.last.text and "44.25" in c.last.text  # 15% of 295
    c.say("yes")
    [booked] = _appointments(demo_app, AHMED)
    assert booked.reference in c.last.text and booked.reference.startswith("BK-")
    assert booked.status == "booked" and booked.courtesy_car and not booked.mobile_service
    assert booked.starts_at == datetime(2026, 11, 27, 18, 0, tzinfo=DUBAI)
    assert booked.ends_at - booked.starts_at == timedelta(minutes=45)
    assert booked.price_aed == Decimal("295.00") and booked.discount_aed == Decimal("44.25")
    assert booked.bay_id is not None
    assert _step(demo_app, AHMED) == (None, None)


def test_book_service_arabic_mobile_service_at_home(chat, demo_app) -> None:
    c = chat(FATIMA)
    c.say("ابي احجز تغيير زيت")
    answers = {"service": "1", "branch": "مركز الخدمة في أبوظبي (مصفح)"}
    _answer_until(c, answers, demo_app, FATIMA, "slot")
    c.say("كلام غير مفهوم تماما")  # names no day or time: asked again
    assert c.last.text == text("appt_when_unclear", "ar")
    c.say("باجر العصر")
    assert c.options and all(o.startswith("الجمعة 27 نوفمبر") for o in c.options)
    c.say("1")
    mobile = next(i for i, o in enumerate(c.options, 1) if o == text("appt_extra_mobile", "ar"))
    c.say(str(mobile))
    assert c.last.text == text("appt_ask_address", "ar")
    c.say("فيلا")  # too short: asked again
    assert c.last.text == text("appt_address_short", "ar")
    c.say("فيلا 12، شارع 5، البرشاء 2، دبي")
    c.say("متابعة")
    assert _step(demo_app, FATIMA) == ("book_service", "confirm")
    c.say("نعم")
    [booked] = _appointments(demo_app, FATIMA)
    assert booked.mobile_service and booked.bay_id is None
    assert booked.service_address == "فيلا 12، شارع 5، البرشاء 2، دبي"
    assert booked.reference in c.last.text
    assert time(14, 0) <= booked.starts_at.astimezone(DUBAI).time() < time(18, 0)


def test_book_service_unknown_sender_gets_no_customer_data(chat, demo_app) -> None:
    c = chat(STRANGER)
    c.say("I want to book a service for my car")
    assert c.last.text == text("need_customer", "en")
    c.say("ابي احجز موعد صيانة")
    assert c.last.text == text("need_customer", "ar")
    c.say("when is my appointment")
    assert c.last.text == text("need_customer", "en")


def test_declining_at_confirmation_books_nothing(chat, demo_app) -> None:
    c = chat(FATIMA)
    c.say("ابي احجز تغيير زيت")
    _answer_until(c, {"service": "1", "branch": "1", "slot": "1", "extras": "متابعة"}, demo_app, FATIMA, "confirm")
    c.say("لا")
    assert c.last.text == text("appt_not_booked", "ar")
    assert _appointments(demo_app, FATIMA) == []


def test_slot_taken_meanwhile_is_told_and_others_offered(chat, demo_app) -> None:
    c = chat(AHMED)
    c.say("I'd like to book an oil change")
    c.say("1")
    c.say("Sharjah Service Centre (Industrial Area)")
    c.say("tomorrow at 10")
    assert c.options[0].startswith("Fri 27 Nov, ")
    c.say("1")
    _answer_until(c, {"extras": "Continue"}, demo_app, AHMED, "confirm")
    # Meanwhile every Sharjah bay that fits is taken at that time.
    at = datetime(2026, 11, 27, 10, 0, tzinfo=DUBAI)
    with demo_app.transaction() as session:
        session.execute(update(Bay).where(Bay.branch_id == select(Branch.id).where(Branch.code == "sharjah")
                                          .scalar_subquery(), Bay.name != "B1").values(active=False))
    _book_direct(demo_app, FATIMA, "sharjah", at)
    c.say("yes")
    assert c.last.text == text("appt_slot_gone", "en", when="Fri 27 Nov, 10:00")
    assert c.options and "Fri 27 Nov, 10:00" not in c.options
    assert _appointments(demo_app, AHMED) == []
    assert _step(demo_app, AHMED) == ("book_service", "slot")


# --- the slot engine --------------------------------------------------------------------------------------


def test_slots_respect_hours_lift_bays_and_priority(demo_app) -> None:
    with demo_app.transaction() as session:
        sharjah = session.scalars(select(Branch).where(Branch.code == "sharjah")).one()
        major = session.scalars(select(ServiceType).where(ServiceType.code == "major_service")).one()
        need = slots.Need.for_service(sharjah.id, major)
        found, fitted = slots.find_slots(session, need, TEST_NOW, DUBAI, When(day=date(2026, 11, 27)), limit=50)
        # Friday in Sharjah is 08:00-12:00 only: a five-hour major service never fits; other days are offered.
        assert not fitted and found and all(at.date() != date(2026, 11, 27) for at in found)
        found, _ = slots.find_slots(session, need, TEST_NOW, DUBAI, When(day=date(2026, 11, 28)), limit=50)
        assert found and all(at + timedelta(hours=5) <= datetime(2026, 11, 28, 20, 0, tzinfo=DUBAI) for at in found)
        # Weekends and evenings are offered: Dubai on Thursday is open until 22:00.
        dubai = session.scalars(select(Branch).where(Branch.code == "dubai")).one()
        oil = session.scalars(select(ServiceType).where(ServiceType.code == "oil_change")).one()
        found, fitted = slots.find_slots(session, slots.Need.for_service(dubai.id, oil), TEST_NOW, DUBAI,
                                         parse_when("next thursday evening", LOCAL_NOW))
        assert fitted and found[0] == datetime(2026, 12, 3, 17, 0, tzinfo=DUBAI)
        # Three lift bays in Sharjah: two are for everyone, the last is kept for plan customers.
        at = datetime(2026, 12, 5, 9, 0, tzinfo=DUBAI)
        customer = _customer(session, FATIMA)
        vehicle = session.scalars(select(Vehicle).where(Vehicle.customer_id == customer.id)).first()
        for _ in range(2):
            booking.book(session, customer_id=customer.id, vehicle_id=vehicle.id, service=major, need=need, at=at,
                       now=TEST_NOW, price=major.price_aed, discount_aed=Decimal(0))
        assert not slots.is_free(session, need, at, TEST_NOW, DUBAI)
        priority = slots.Need.for_service(sharjah.id, major, priority=True)
        assert slots.is_free(session, priority, at, TEST_NOW, DUBAI)
        booking.book(session, customer_id=customer.id, vehicle_id=vehicle.id, service=major, need=priority, at=at,
                   now=TEST_NOW, price=major.price_aed, discount_aed=Decimal(0))
        assert not slots.is_free(session, priority, at, TEST_NOW, DUBAI)
        with pytest.raises(booking.SlotTaken):
            booking.book(session, customer_id=customer.id, vehicle_id=vehicle.id, service=major, need=priority, at=at,
                       now=TEST_NOW, price=major.price_aed, discount_aed=Decimal(0))
        # Work without a lift still fits in the bays without one.
        assert slots.is_free(session, slots.Need.for_service(sharjah.id, oil), at, TEST_NOW, DUBAI)
        session.rollback()


def test_courtesy_cars_last_while_stocks_last(demo_app) -> None:
    with demo_app.transaction() as session:
        sharjah = session.scalars(select(Branch).where(Branch.code == "sharjah")).one()  # two courtesy cars
        oil = session.scalars(select(ServiceType).where(ServiceType.code == "oil_change")).one()
        customer = _customer(session, AHMED)
        vehicle = session.scalars(select(Vehicle).where(Vehicle.customer_id == customer.id)).first()
        at = datetime(2026, 11, 28, 10, 0, tzinfo=DUBAI)
        need = slots.Need.for_service(sharjah.id, oil, courtesy_car=True, priority=True)
        duration = timedelta(minutes=45)
        assert slots.courtesy_cars_left(session, sharjah, at, duration) == 2
        for _ in range(2):
            booking.book(session, customer_id=customer.id, vehicle_id=vehicle.id, service=oil, need=need, at=at,
                       now=TEST_NOW, price=oil.price_aed, discount_aed=Decimal(0))
        assert slots.courtesy_cars_left(session, sharjah, at, duration) == 0
        assert not slots.is_free(session, need, at, TEST_NOW, DUBAI)
        assert slots.courtesy_cars_left(session, sharjah, at + timedelta(hours=1), duration) == 2
        session.rollback()


# --- check / reschedule / cancel ---------------------------------------------------------------------------


def test_check_appointment_shows_only_own(chat, demo_app) -> None:
    mine = _book_direct(demo_app, AHMED, "dubai", datetime(2026, 11, 29, 9, 0, tzinfo=DUBAI))
    hers = _book_direct(demo_app, FATIMA, "abu-dhabi", datetime(2026, 11, 29, 11, 0, tzinfo=DUBAI))
    c = chat(AHMED)
    said = c.text("when is my appointment")
    assert mine in said and hers not in said and "Sun 29 Nov, 09:00" in said
    f = chat(FATIMA)
    said = f.text("متى موعدي")
    assert hers in said and mine not in said and "الأحد 29 نوفمبر، 11:00" in said
    s = chat(STRANGER)
    assert s.text("when is my appointment").startswith(text("need_customer", "en"))


def test_check_appointment_none(chat, demo_app) -> None:
    c = chat(FATIMA)
    c.say("متى موعدي")
    assert c.last.text == text("appt_none", "ar")


def test_reschedule_english(chat, demo_app) -> None:
    reference = _book_direct(demo_app, AHMED, "dubai", datetime(2026, 11, 29, 9, 0, tzinfo=DUBAI))
    c = chat(AHMED)
    c.say("can I move my booking to another day")
    assert reference in c.last.text and _step(demo_app, AHMED) == ("reschedule_appointment", "slot")
    c.say("blah blah")
    assert c.last.text == text("appt_when_unclear", "en")
    c.say("next monday at 4pm")
    assert c.options[0] == "Mon 30 Nov, 16:00"
    c.say("1")
    assert c.last.text == text("appt_reschedule_confirm", "en", reference=reference, old="Sun 29 Nov, 09:00",
                               new="Mon 30 Nov, 16:00")
    c.say("yes")
    [moved] = _appointments(demo_app, AHMED)
    assert moved.reference == reference and moved.status == "booked"
    assert moved.starts_at == datetime(2026, 11, 30, 16, 0, tzinfo=DUBAI)
    assert moved.ends_at == moved.starts_at + timedelta(minutes=45)


def test_reschedule_arabic_and_others_reference(chat, demo_app) -> None:
    ahmeds = _book_direct(demo_app, AHMED, "dubai", datetime(2026, 11, 29, 9, 0, tzinfo=DUBAI))
    c = chat(FATIMA)
    c.say("ابي اغير موعدي")
    assert c.last.text == text("appt_none", "ar")  # she has none; Ahmed's is not hers
    hers = _book_direct(demo_app, FATIMA, "abu-dhabi", datetime(2026, 11, 29, 11, 0, tzinfo=DUBAI))
    c.say(f"ابي اغير موعدي {ahmeds}")
    assert ahmeds not in c.last.text and hers in c.last.text  # someone else's reference: her own one instead
    c.say("الأحد الساعة ١٠")
    assert c.options[0] == "الأحد 29 نوفمبر، 10:00"
    c.say("1")
    c.say("نعم")
    [moved] = _appointments(demo_app, FATIMA)
    assert moved.starts_at == datetime(2026, 11, 29, 10, 0, tzinfo=DUBAI)
    [untouched] = _appointments(demo_app, AHMED)
    assert untouched.starts_at == datetime(2026, 11, 29, 9, 0, tzinfo=DUBAI)


def _make_single_bay(demo_app, branch_code: str) -> None:  # type: ignore[no-untyped-def]
    with demo_app.transaction() as session:
        branch_id = session.scalars(select(Branch.id).where(Branch.code == branch_code)).one()
        session.execute(update(Bay).where(Bay.branch_id == branch_id, Bay.name != "B1").values(active=False))


def test_cancel_english_frees_the_slot(chat, demo_app) -> None:
    _make_single_bay(demo_app, "sharjah")
    at = datetime(2026, 11, 28, 9, 0, tzinfo=DUBAI)
    first = _book_direct(demo_app, AHMED, "sharjah", at)
    second = _book_direct(demo_app, AHMED, "dubai", at + timedelta(days=1))

    def free_for_fatima() -> bool:
        with demo_app.transaction() as session:
            branch = session.scalars(select(Branch).where(Branch.code == "sharjah")).one()
            oil = session.scalars(select(ServiceType).where(ServiceType.code == "oil_change")).one()
            found, _ = slots.find_slots(session, slots.Need.for_service(branch.id, oil), TEST_NOW, DUBAI,
                                        When(day=at.date()), limit=50)
            return at in found

    assert not free_for_fatima()
    c = chat(AHMED)
    c.say("cancel my appointment")
    assert c.last.text == text("appt_ask_which_cancel", "en")
    c.say("BK-ZZZZZZ")  # no such appointment of his: asked again
    assert c.last.text == text("appt_not_found", "en")
    c.say("1")
    assert first in c.last.text
    c.say("Yes, cancel it")
    assert c.last.text == text("appt_cancelled", "en", reference=first)
    states = {a.reference: a.status for a in _appointments(demo_app, AHMED)}
    assert states == {first: "cancelled", second: "booked"}
    assert free_for_fatima()  # the cancelled slot is offered again
    f = chat(FATIMA)
    f.say("ابي احجز تغيير زيت")
    _answer_until(f, {"service": "1", "branch": "مركز الخدمة في الشارقة (المنطقة الصناعية)"}, demo_app, FATIMA, "slot")
    f.say("السبت الساعة ٩ الصبح")
    assert f.options[0] == "السبت 28 نوفمبر، 09:00"


def test_cancel_arabic_keep_and_cancel(chat, demo_app) -> None:
    hers = _book_direct(demo_app, FATIMA, "abu-dhabi", datetime(2026, 11, 29, 11, 0, tzinfo=DUBAI))
    ahmeds = _book_direct(demo_app, AHMED, "dubai", datetime(2026, 11, 29, 9, 0, tzinfo=DUBAI))
    c = chat(FATIMA)
    c.say("أبي ألغي موعدي")
    assert hers in c.last.text and ahmeds not in c.last.text
    c.say("لا، أبقِ الموعد")
    assert c.last.text == text("appt_not_cancelled", "ar", reference=hers)
    c.say("أبي ألغي موعدي")
    c.say("نعم، ألغِ الموعد")
    assert c.last.text == text("appt_cancelled", "ar", reference=hers)
    assert [a.status for a in _appointments(demo_app, FATIMA)] == ["cancelled"]
    assert [a.status for a in _appointments(demo_app, AHMED)] == ["booked"]
    s = chat(STRANGER)
    s.say("cancel my appointment")
    assert s.last.text == text("need_customer", "en")


# --- two customers, one last slot, on PostgreSQL ----------------------------------------------------------


def test_last_slot_race_on_postgresql(databases, table_nlu) -> None:  # type: ignore[no-untyped-def]
    """Both customers reach the confirmation of the same last slot, then say yes at the same moment from
    two threads on separate connections to a committed PostgreSQL database: exactly one gets it."""
    from bot.core import Assistant  # noqa: F401  (handlers registered)
    from db import migrate
    from db.demo import seed_demo
    from db.engine import make_engine
    from dealerbot.bootstrap import App
    from dealerbot.clock import FixedClock
    from dealerbot.settings import load_settings
    from tests.scenario import Conversation

    url = databases.new_url("postgresql")
    engine = make_engine(url, pool_size=5)
    migrate.upgrade(engine)
    with Session(engine) as session, session.begin():
        seed_demo(session, TEST_NOW)
        sharjah = session.scalars(select(Branch).where(Branch.code == "sharjah")).one()
        session.execute(update(Bay).where(Bay.branch_id == sharjah.id, Bay.name != "B1").values(active=False))
    app = App(settings=load_settings(database_url=url), engine=engine,
              sessions=sessionmaker(bind=engine, expire_on_commit=False), clock=FixedClock(TEST_NOW))
    try:
        people = {AHMED: Conversation(app, table_nlu, AHMED), FATIMA: Conversation(app, table_nlu, FATIMA)}
        for phone, c in people.items():
            c.say("I'd like to book an oil change")
            _answer_until(c, {"vehicle": "1", "service": "1", "branch": "Sharjah Service Centre (Industrial Area)"},
                          app, phone, "slot")
            c.say("Saturday at 9am")
            assert c.options[0] in {"Sat 28 Nov, 09:00", "السبت 28 نوفمبر، 09:00"}
            c.say("1")
            _answer_until(c, {"extras": c.options[-1]}, app, phone, "confirm")

        # Both threads get into their booking transaction before either may lock the branch.
        barrier = threading.Barrier(2, timeout=30)
        real_lock = booking._lock_branch

        def lock_together(session: Session, branch_id: int) -> Branch:
            barrier.wait()
            return real_lock(session, branch_id)

        results: dict[str, list] = {}
        errors: list[BaseException] = []

        def confirm(phone: str) -> None:
            try:
                c = people[phone]
                results[phone] = c.say("yes" if phone == AHMED else "نعم")
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        booking._lock_branch = lock_together  # type: ignore[assignment]
        try:
            threads = [threading.Thread(target=confirm, args=(phone,)) for phone in people]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
        finally:
            booking._lock_branch = real_lock  # type: ignore[assignment]
        assert not errors

        with Session(engine) as session:
            booked = session.scalars(select(Appointment).where(Appointment.status == "booked")).all()
            assert len(booked) == 1
            winner = session.get(Customer, booked[0].customer_id).phone
        loser = FATIMA if winner == AHMED else AHMED
        lang = "en" if loser == AHMED else "ar"
        slot = "Sat 28 Nov, 09:00" if lang == "en" else "السبت 28 نوفمبر، 09:00"
        assert booked[0].reference in results[winner][-1].text
        assert results[loser][-1].text == text("appt_slot_gone", lang, when=slot)
        offered = [o.label for o in results[loser][-1].options]
        assert offered and slot not in offered
    finally:
        engine.dispose()


def test_book_service_wrong_choices_are_asked_again_in_english(chat, demo_app) -> None:
    c = chat(AHMED)  # two cars: the vehicle is asked first
    c.say("I'd like to book an oil change")
    assert _step(demo_app, AHMED) == ("book_service", "vehicle")
    offered = list(c.options)
    c.say("9")  # no ninth car
    assert _step(demo_app, AHMED) == ("book_service", "vehicle") and c.options == offered
    c.say("1")
    _answer_until(c, {"service": "1"}, demo_app, AHMED, "branch")
    c.say("the moon branch")
    assert _step(demo_app, AHMED) == ("book_service", "branch")
    assert _appointments(demo_app, AHMED) == []
