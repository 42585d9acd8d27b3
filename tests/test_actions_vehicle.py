"""The customer's car: next service due, service history, recalls, odometer readings (actions/maintenance,
actions/history, actions/recalls, actions/mileage): scenario tests through the real core and Rasa server
on the demo data, in English and Arabic."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import delete, func, select

from actions import registry  # noqa: F401  (every domain's handlers and texts)
from actions.history.rules import PAGE_SIZE
from actions.kit import formats, vehicles
from actions.kit.catalog import text
from actions.maintenance.rules import DEFAULT_INTERVAL, is_scheduled_service
from actions.maintenance.service import next_service, plan_for
from actions.mileage.rules import parse_mileage
from actions.mileage.service import check_reading
from actions.recalls.rules import recall_applies
from db.models import (
    ConversationState,
    Customer,
    InspectionReport,
    MaintenancePlan,
    MileageReading,
    Recall,
    RecallCompletion,
    ServiceRecord,
    Vehicle,
    VehicleDocument,
)

AHMED = "+971501234567"
FATIMA = "+971552345678"
STRANGER = "+971509999999"
DUBAI = ZoneInfo("Asia/Dubai")
TODAY = date(2026, 11, 26)  # tests/conftest.py TEST_NOW in Dubai
_AR_MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر",
              "نوفمبر", "ديسمبر")
_AR_DAYS = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")

_BASE: dict[str, int] = {"readings": 0}


@pytest.fixture(autouse=True)
def _fresh_conversations(request: pytest.FixtureRequest) -> None:
    """No conversation in the middle of a flow whatever ran before, and the newest reading id before the test."""
    if "demo_app" not in request.fixturenames:
        return
    demo_app = request.getfixturevalue("demo_app")
    with demo_app.transaction() as s:
        s.execute(delete(ConversationState))
        _BASE["readings"] = s.scalar(select(func.max(MileageReading.id))) or 0


# --- helpers ---------------------------------------------------------------------------------------------------


def _customer(s, phone: str) -> Customer:
    return s.scalar(select(Customer).where(Customer.phone == phone))


def _vehicle(s, phone: str, model: str) -> Vehicle:
    customer = _customer(s, phone)
    return next(v for v in s.scalars(select(Vehicle).where(Vehicle.customer_id == customer.id)) if v.model == model)


def _new_readings(demo_app) -> list[MileageReading]:
    with demo_app.transaction() as s:
        return list(s.scalars(select(MileageReading).where(MileageReading.id > _BASE["readings"])
                              .order_by(MileageReading.id)))


def _ids(c) -> list[str]:
    return [o.id for o in c.last.options]


def _pick(c, option_id: str) -> str:
    """Choose an offered option by its number, as a WhatsApp customer would."""
    return c.text(str(_ids(c).index(option_id) + 1))


def _date(day: date, language: str = "en") -> str:
    if language == "ar":
        return f"{_AR_DAYS[day.weekday()]} {day.day} {_AR_MONTHS[day.month - 1]} {day.year}"
    return day.strftime("%a %-d %b %Y")


def _expected_due(demo_app, phone: str, model: str) -> tuple[date, int, ServiceRecord]:
    """The demo's plans are every 6 months or 10,000 km for Toyota, Lexus and the Nissan Patrol; the demo
    cars' last periodic service is a "Minor/Major service" record."""
    with demo_app.transaction() as s:
        vehicle = _vehicle(s, phone, model)
        last = s.scalar(select(ServiceRecord).where(
            ServiceRecord.vehicle_id == vehicle.id,
            ServiceRecord.work.like("M% service%")).order_by(ServiceRecord.service_date.desc()).limit(1))
        return last.service_date + relativedelta(months=6), last.mileage_km + 10_000, last


def _km(value: int, language: str = "en") -> str:
    return formats.number(value, language)


def _label(demo_app, phone: str, model: str) -> str:
    with demo_app.transaction() as s:
        return vehicles.label(_vehicle(s, phone, model))


# --- the catalog, the parsers, the rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "km"),
    [
        ("85,000 km", 85_000), ("٤٥ ألف", 45_000), ("120k", 120_000), ("39.5k", 39_500), ("104 thousand", 104_000),
        ("٧٣٤٥٠ كم", 73_450), ("85.000 km", 85_000), ("my 2020 Land Cruiser is at 85000", 85_000),
        ("العداد ٨٥٬٠٠٠ كم", 85_000), ("62 thousand kilometers on the clock", 62_000), ("الممشى صار ٦٤ ألف كيلو", 64_000),
        ("reporting mileage for AD 2 44871: 81,900 km", 81_900), ("odo now 73,450 kms", 73_450),
        ("العداد 125000 كم", 125_000),
    ],
)
def test_readings_are_read_in_every_form_customers_write_them(said: str, km: int) -> None:
    assert parse_mileage(said) == km


@pytest.mark.parametrize("said", ["2", "my 2020 Land Cruiser", "hello", "5W-30 oil please", "ما أعرف", ""])
def test_what_is_not_a_reading_is_not_taken_for_one(said: str) -> None:
    assert parse_mileage(said) is None


@pytest.mark.parametrize(
    ("work", "scheduled"),
    [
        ("Minor service: engine oil and filter changed", True), ("Major service: full inspection", True),
        ("Engine oil change", True), ("10,000 km service", True), ("صيانة دورية", True),
        ("AC service and regas, cabin air filter replaced", False), ("Battery replaced after failing a load test", False),
        ("Four tyres replaced, balanced and aligned", False),
    ],
)
def test_only_periodic_services_and_oil_changes_reset_the_schedule(work: str, scheduled: bool) -> None:
    assert is_scheduled_service(work) is scheduled


def test_the_most_specific_maintenance_plan_applies_else_the_default(demo_app) -> None:
    with demo_app.transaction() as s:
        cruiser, lexus = _vehicle(s, AHMED, "Land Cruiser"), _vehicle(s, AHMED, "ES")
        assert plan_for(s, cruiser) == (10_000, 6)  # ("Toyota", "*")
        s.add_all([MaintenancePlan(make="toyota", model="LAND CRUISER", interval_km=5_000, interval_months=3),
                   MaintenancePlan(make="*", model="ES", interval_km=7_500, interval_months=4)])
        s.flush()
        assert plan_for(s, cruiser) == (5_000, 3)  # make and model beat make only
        assert plan_for(s, lexus) == (10_000, 6)  # ("Lexus", "*") beats ("*", "ES")
        s.execute(delete(MaintenancePlan).where(MaintenancePlan.make == "Lexus"))
        assert plan_for(s, lexus) == (7_500, 4)  # ("*", "ES") beats the default
        s.execute(delete(MaintenancePlan).where(MaintenancePlan.model == "ES"))
        assert plan_for(s, lexus) == (10_000, 6)  # the ("*", "*") default
        s.execute(delete(MaintenancePlan))
        assert plan_for(s, lexus) == DEFAULT_INTERVAL
        s.rollback()


def test_next_service_counts_from_the_last_periodic_service_not_from_other_work(demo_app) -> None:
    with demo_app.transaction() as s:
        cruiser = _vehicle(s, AHMED, "Land Cruiser")
        before = next_service(s, cruiser, TODAY, DUBAI)
        s.add(ServiceRecord(vehicle_id=cruiser.id, service_date=TODAY - timedelta(days=10), mileage_km=None,
                            work="Battery replaced after failing a load test", parts=[], source="workshop",
                            created_at=datetime.now(UTC)))
        s.flush()
        after = next_service(s, cruiser, TODAY, DUBAI)
        assert (after.due_date, after.due_km) == (before.due_date, before.due_km)
        s.add(ServiceRecord(vehicle_id=cruiser.id, service_date=TODAY - timedelta(days=5), mileage_km=121_000,
                            work="Engine oil change", parts=[], source="workshop", created_at=datetime.now(UTC)))
        s.flush()
        after = next_service(s, cruiser, TODAY, DUBAI)
        assert after.due_date == TODAY - timedelta(days=5) + relativedelta(months=6)
        assert after.due_km == 131_000 and after.latest_km == 121_000
        s.rollback()


def test_readings_that_go_back_or_jump_absurdly_are_caught(demo_app) -> None:
    with demo_app.transaction() as s:
        cruiser = _vehicle(s, AHMED, "Land Cruiser")  # 119,465 km on 28 Aug 2026, a 2020 car
        assert check_reading(s, cruiser, 119_000, TODAY, DUBAI).verdict == "backwards"
        assert check_reading(s, cruiser, 119_465, TODAY, DUBAI).verdict == "same"
        assert check_reading(s, cruiser, 131_000, TODAY, DUBAI).verdict == "ok"
        assert check_reading(s, cruiser, 250_000, TODAY, DUBAI).verdict == "jump"  # 130,000 km in 90 days
        s.execute(delete(MileageReading).where(MileageReading.vehicle_id == cruiser.id))
        s.execute(delete(ServiceRecord).where(ServiceRecord.vehicle_id == cruiser.id))
        assert check_reading(s, cruiser, 450_000, TODAY, DUBAI).verdict == "ok"
        assert check_reading(s, cruiser, 900_000, TODAY, DUBAI).verdict == "age"  # ~130,000 km a year since 2020
        s.rollback()


def test_a_recall_with_a_vin_list_applies_to_those_vins_only(demo_app) -> None:
    with demo_app.transaction() as s:
        cruiser, lexus = _vehicle(s, AHMED, "Land Cruiser"), _vehicle(s, AHMED, "ES")
        listed = Recall(campaign_code="X", make="Toyota", model="Land Cruiser", year_from=2000, year_to=2030,
                        vins=[lexus.vin.lower()], title_en="t", title_ar="t", description_en="d", description_ar="d",
                        remedy_en="r", remedy_ar="r", published_on=TODAY, active=True)
        assert recall_applies(listed, lexus) and not recall_applies(listed, cruiser)
        by_range = Recall(campaign_code="Y", make="TOYOTA", model=None, year_from=2020, year_to=2020, vins=None,
                          title_en="t", title_ar="t", description_en="d", description_ar="d", remedy_en="r",
                          remedy_ar="r", published_on=TODAY, active=True)
        assert recall_applies(by_range, cruiser) and not recall_applies(by_range, lexus)
        s.rollback()


# --- maintenance_due ---------------------------------------------------------------------------------------------


def test_next_service_in_english_asks_which_car_then_tells_date_km_last_service_and_mileage(chat, demo_app) -> None:
    due_date, due_km, last = _expected_due(demo_app, AHMED, "Land Cruiser")
    c = chat(AHMED)
    said = c.text("when is my next service due?")
    assert text("veh_ask_vehicle_due", "en") in said
    assert "Land Cruiser" in said and "Lexus ES" in said and "Patrol" not in said
    said = _pick(c, next(o.id for o in c.last.options if "Land Cruiser" in o.label))
    assert _date(due_date) in said and _km(due_km) in said
    assert _date(last.service_date) in said and _km(last.mileage_km) in said  # the last service
    assert "Latest mileage: 119,465 km" in said and "(your plan: every 6 months or 10,000 km)" in said
    with demo_app.transaction() as s:
        cruiser = _vehicle(s, AHMED, "Land Cruiser").id
    assert _ids(c) == [f"intent:book_service?vehicle={cruiser}", f"intent:report_mileage?vehicle={cruiser}"]
    # The offer to book leads into the booking flow, for that car (the vehicle is not asked again).
    said = _pick(c, f"intent:book_service?vehicle={cruiser}")
    assert text("appt_ask_vehicle", "en") not in said and "Land Cruiser" in said


def test_next_service_for_a_car_named_in_the_message_is_answered_at_once(chat, demo_app) -> None:
    due_date, due_km, _ = _expected_due(demo_app, AHMED, "ES")
    said = chat(AHMED).text("when is the Lexus due for its next service?")
    assert "Lexus ES" in said and _date(due_date) in said and _km(due_km) in said
    assert "Land Cruiser" not in said


def test_next_service_wrong_car_is_asked_again_then_answered(chat, demo_app) -> None:
    due_date, _, _ = _expected_due(demo_app, AHMED, "ES")
    c = chat(AHMED)
    c.say("when is my next service due?")
    assert c.text("the red one").startswith(text("veh_choose_again", "en"))
    assert len(c.last.options) == 2
    assert _date(due_date) in c.text("Lexus")


def test_next_service_in_arabic_for_the_only_car(chat, demo_app) -> None:
    due_date, due_km, last = _expected_due(demo_app, FATIMA, "Patrol")
    said = chat(FATIMA).text("متى موعد الصيانة القادمة لسيارتي؟")
    assert "Nissan Patrol" in said
    assert f"موعد الصيانة القادمة في {_date(due_date, 'ar')} أو عند {_km(due_km)} كم" in said
    assert _date(last.service_date, "ar") in said and "آخر قراءة للعداد" in said
    # Her last reading is months old and her usual driving has probably reached the km already.
    assert "ربما تجاوزت" in said
    assert [o.label for o in chat(FATIMA).say("متى الصيانة الجاية للباترول؟")[-1].options] == [
        text("menu_book_service", "ar"), text("veh_report_mileage", "ar")]


def test_next_service_with_a_km_asked_about_uses_it_without_storing_it(chat, demo_app) -> None:
    _, due_km, _ = _expected_due(demo_app, AHMED, "Land Cruiser")
    said = chat(AHMED).text("what will be due at 125,000 km on the Land Cruiser?")
    assert text("veh_due_at_km_left", "en", km="125,000", left=_km(due_km - 125_000)) in said
    assert _new_readings(demo_app) == []


@pytest.mark.parametrize(
    ("said", "language"),
    [
        ("I'm at 125,000 km, when is my next service due on the Land Cruiser?", "en"),
        ("العداد ١٢٥ ألف، متى الصيانة الجاية للاندكروزر؟", "ar"),
    ],
)
def test_next_service_with_the_present_km_stores_it_and_counts_from_it(chat, demo_app, said, language) -> None:
    _, due_km, _ = _expected_due(demo_app, AHMED, "Land Cruiser")
    reply = chat(AHMED).text(said)
    assert [r.reading_km for r in _new_readings(demo_app)] == [125_000]
    assert reply.startswith(text("veh_km_saved", language, km=_km(125_000, language),
                                 vehicle=_label(demo_app, AHMED, "Land Cruiser")))
    assert _km(due_km - 125_000, language) in reply  # what is left, counted from the reading


@pytest.mark.parametrize("said", ["when is my next service due?", "متى موعد الصيانة القادمة لسيارتي؟"])
def test_next_service_for_an_unknown_sender_shows_no_customer_data(chat, said: str) -> None:
    reply = chat(STRANGER).text(said)
    language = "ar" if re.search(r"[\u0600-\u06ff]", said) else "en"
    assert reply.startswith(text("need_customer", language))
    assert "km" not in reply and "كم" not in reply.replace(text("need_customer", language), "")


def test_next_service_for_someone_elses_vin_is_answered_like_an_unknown_car(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        patrol = _vehicle(s, FATIMA, "Patrol")
        vin, patrol_due = patrol.vin, next_service(s, patrol, TODAY, DUBAI)
    c = chat(AHMED)
    said = c.text(f"when is the next service due for VIN {vin}")
    assert said.startswith(text("veh_not_yours", "en", ref=vin))
    assert "Patrol" not in said and _km(patrol_due.due_km) not in said
    assert len(c.last.options) == 2 and all("Patrol" not in o.label for o in c.last.options)


# --- service_history ---------------------------------------------------------------------------------------------


def test_service_history_in_english_lists_the_named_cars_records(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        lexus = _vehicle(s, AHMED, "ES")
        records = list(s.scalars(select(ServiceRecord).where(ServiceRecord.vehicle_id == lexus.id)))
        cruiser_dates = [r.service_date for r in _vehicle(s, AHMED, "Land Cruiser").service_records]
    c = chat(AHMED)
    said = c.text("show me the service history of my Lexus")
    assert said.startswith(text("veh_records_head", "en", vehicle="Lexus ES 2022 (Dubai U 93658)", count=len(records)))
    for record in records:
        assert _date(record.service_date) in said and f"{record.cost_aed:,.0f} AED" in said
    assert all(_date(day) not in said for day in cruiser_dates if day not in {r.service_date for r in records})
    assert "more" not in _ids(c)
    assert _ids(c) == ["section:inspection", "section:documents"]


def test_long_service_history_is_paged_and_more_continues_where_it_stopped(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        cruiser = _vehicle(s, AHMED, "Land Cruiser")
        for n in range(1, 10):  # older visits, one a month back from the oldest
            s.add(ServiceRecord(vehicle_id=cruiser.id, service_date=date(2025, 9, 1) - relativedelta(months=n),
                                mileage_km=100_000 - n * 1_000, work=f"Tyre rotation and balancing #{n}",
                                parts=[], cost_aed=Decimal("150.00"), source="workshop", created_at=datetime.now(UTC)))
        s.flush()
        days = [r.service_date for r in s.scalars(select(ServiceRecord).where(
            ServiceRecord.vehicle_id == cruiser.id).order_by(ServiceRecord.service_date.desc()))]
    assert len(days) == 11
    c = chat(AHMED)
    pages = [c.text("show me the service history of my Land Cruiser")]
    assert "more" in _ids(c)
    assert text("veh_page", "en", first=1, last=PAGE_SIZE, total=11) in pages[0]
    pages.append(_pick(c, "more"))
    assert text("veh_page", "en", first=6, last=10, total=11) in pages[1]
    pages.append(c.text("more"))  # the word works as well as the option
    assert text("veh_page", "en", first=11, last=11, total=11) in pages[2]
    assert "more" not in _ids(c)
    for day in days:  # every visit exactly once, newest first
        assert sum(page.count(_date(day)) for page in pages) == 1
    assert all(_date(day) in pages[0] for day in days[:PAGE_SIZE])
    assert all(_date(day) in pages[1] for day in days[PAGE_SIZE:2 * PAGE_SIZE])


def test_inspection_report_in_arabic_shows_findings_and_items_to_watch(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        report = s.scalar(select(InspectionReport).where(
            InspectionReport.vehicle_id == _vehicle(s, FATIMA, "Patrol").id))
        watch = [(i.item_ar, i.finding_ar) for i in report.items if i.result == "watch"]
        fixed = [(i.item_ar, i.finding_ar) for i in report.items if i.result == "fixed"]
        summary, inspector = report.summary_ar, report.inspector
    c = chat(FATIMA)
    said = c.text("أبي تقرير الفحص قبل التسليم")
    assert "فحص ما قبل التسليم لسيارتك Nissan Patrol" in said and summary in said and inspector in said
    assert watch and fixed
    for item, finding in watch:
        assert text("veh_inspection_watch", "ar", item=item, finding=finding) in said
    for item, finding in fixed:
        assert text("veh_inspection_fixed", "ar", item=item, finding=finding) in said
    assert _ids(c) == ["section:records", "section:documents"]
    said = _pick(c, "section:documents")
    assert "مستندات سيارتك Nissan Patrol" in said and "تقرير تاريخ المركبة" in said


def test_documents_are_linked_and_attached_for_the_named_car_only(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        lexus, cruiser = _vehicle(s, AHMED, "ES"), _vehicle(s, AHMED, "Land Cruiser")
        urls = [d.url for d in s.scalars(select(VehicleDocument).where(VehicleDocument.vehicle_id == lexus.id))]
        cruiser_vin = cruiser.vin
    c = chat(AHMED)
    said = c.text("send me the vehicle history certificate for my Lexus")
    assert urls and all(url in said for url in urls) and cruiser_vin not in said
    assert sorted(a.url for a in c.last.attachments) == sorted(urls)
    assert "Vehicle history report" in said and "Certified pre-owned certificate" in said


def test_service_history_unclear_input_while_browsing_is_asked_again(chat) -> None:
    c = chat(AHMED)
    c.say("show me the service history of my Lexus")
    before = _ids(c)
    said = c.text("the gold one")
    assert said.startswith(text("veh_browse_again", "en")) and _ids(c) == before
    assert "Pre-delivery inspection of your Lexus ES" in _pick(c, "section:inspection")


def test_service_history_wrong_car_in_arabic_is_asked_again(chat, demo_app) -> None:
    c = chat(AHMED)
    said = c.text("ارسل لي سجل الصيانة")
    assert text("veh_ask_vehicle_history", "ar") in said
    assert c.text("السيارة الصفراء").startswith(text("veh_choose_again", "ar"))
    assert "سجل صيانة سيارتك Lexus ES" in c.text("اللكزس")


def test_service_history_of_someone_elses_plate_and_for_an_unknown_sender(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        patrol = _vehicle(s, FATIMA, "Patrol")
        plate, first_day = patrol.plate, patrol.service_records[0].service_date
    c = chat(AHMED)
    said = c.text(f"service history for {plate}")
    assert said.startswith(text("veh_not_yours", "en", ref=plate)) and _date(first_day) not in said
    stranger = chat(STRANGER)
    assert stranger.text("ارسل لي سجل الصيانة").startswith(text("need_customer", "ar"))


# --- recall_check ------------------------------------------------------------------------------------------------


def test_recalls_in_english_for_all_cars_show_the_open_one_with_remedy_and_offer_to_book(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        recall = s.scalar(select(Recall).where(Recall.campaign_code == "TOY-26LC-FP1"))
        title, remedy = recall.title_en, recall.remedy_en
    c = chat(AHMED)
    said = c.text("any recalls on my cars?")
    assert text("veh_ask_vehicle_recall", "en") in said and _ids(c)[-1] == "vehicle:all"
    said = _pick(c, "vehicle:all")
    assert "open recall TOY-26LC-FP1" in said and title in said and remedy in said
    assert "✅ Lexus ES 2022 (Dubai U 93658): no open recalls." in said
    assert len(_ids(c)) == 1 and text("veh_recall_offer", "en") in said
    assert _ids(c)[0].startswith("intent:book_service?") and "recall=" in _ids(c)[0]


def test_recall_for_a_named_car_and_a_vin_list_recall(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        lexus = _vehicle(s, AHMED, "ES")
        s.add(Recall(campaign_code="LEX-26ES-VIN", make="Lexus", model="ES", year_from=2015, year_to=2025,
                     vins=[lexus.vin], title_en="Seat belt pretensioner", title_ar="شداد حزام الأمان",
                     description_en="May not deploy.", description_ar="قد لا يعمل.", remedy_en="Replaced free.",
                     remedy_ar="يُستبدل مجاناً.", published_on=TODAY, active=True))
        s.add(Recall(campaign_code="TOY-26LC-VIN", make="Toyota", model="Land Cruiser", year_from=2015,
                     year_to=2025, vins=["JTMHY7AJ0LZ000000"], title_en="Other cars only", title_ar="سيارات أخرى",
                     description_en="d", description_ar="d", remedy_en="r", remedy_ar="r", published_on=TODAY,
                     active=True))
    c = chat(AHMED)
    said = c.text("is my Land Cruiser affected by any recall?")
    assert "TOY-26LC-FP1" in said and "TOY-26LC-VIN" not in said and "LEX-26ES-VIN" not in said
    said = c.text("any recall on the Lexus?")
    assert "open recall LEX-26ES-VIN — Seat belt pretensioner" in said and "Replaced free." in said


def test_a_completed_recall_is_not_open_and_its_date_is_told(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        done = s.scalar(select(RecallCompletion).join(Recall, Recall.id == RecallCompletion.recall_id)
                        .where(Recall.campaign_code == "TOY-26LC-FP1"))
        vehicle = s.get(Vehicle, done.vehicle_id)
        phone, on = vehicle.owner.phone, done.completed_on
        vehicles = len(vehicle.owner.vehicles)
    c = chat(phone)
    said = c.text("is my Land Cruiser affected by any recall?")
    if vehicles > 1 and "recall" not in said:
        said = c.text("Land Cruiser")
    assert "recall TOY-26LC-FP1" in said and "completed on" in said and _date(on) in said
    assert "open recall TOY-26LC-FP1" not in said


def test_recalls_in_arabic_for_the_only_car_none_open(chat) -> None:
    c = chat(FATIMA)
    said = c.text("هل يوجد استدعاء على سيارتي؟")
    assert "✅ Nissan Patrol 2022 (Abu Dhabi 12 18276): لا توجد استدعاءات مفتوحة." == said
    assert c.last.options == []


def test_recalls_wrong_car_is_asked_again_and_strangers_and_other_vins_see_nothing(chat, demo_app) -> None:
    c = chat(AHMED)
    c.say("any recalls on my cars?")
    assert c.text("the red one").startswith(text("veh_choose_again", "en"))
    assert "TOY-26LC-FP1" in c.text("Land Cruiser")
    with demo_app.transaction() as s:
        other = s.scalar(select(Vehicle).join(RecallCompletion, RecallCompletion.vehicle_id == Vehicle.id)
                         .where(Vehicle.model == "Tucson"))
        vin = other.vin
    said = chat(AHMED).text(f"check recalls for VIN {vin}")
    assert said.startswith(text("veh_not_yours", "en", ref=vin)) and "HYU-26TU-ABS" not in said
    assert chat(STRANGER).text("any recalls on my cars?").startswith(text("need_customer", "en"))


# --- report_mileage ----------------------------------------------------------------------------------------------


def test_mileage_in_english_is_stored_and_the_next_service_told(chat, demo_app) -> None:
    _, due_km, _ = _expected_due(demo_app, AHMED, "Land Cruiser")
    c = chat(AHMED)
    said = c.text("my Land Cruiser odometer is at 125,300 km")
    assert said.startswith(text("veh_km_saved", "en", km="125,300", vehicle="Toyota Land Cruiser 2020 (Dubai DD 24177)"))
    assert _km(due_km) in said and _km(due_km - 125_300) in said
    [reading] = _new_readings(demo_app)
    assert (reading.reading_km, reading.source) == (125_300, "customer")
    assert reading.recorded_at == demo_app.clock.now()
    with demo_app.transaction() as s:
        assert reading.vehicle_id == _vehicle(s, AHMED, "Land Cruiser").id
    assert _ids(c) == [f"intent:book_service?vehicle={reading.vehicle_id}"]


def test_mileage_written_as_120k_is_read(chat, demo_app) -> None:
    chat(AHMED).say("120k on the Land Cruiser")
    assert [r.reading_km for r in _new_readings(demo_app)] == [120_000]


def test_mileage_in_arabic_is_stored(chat, demo_app) -> None:
    due_date, due_km, _ = _expected_due(demo_app, FATIMA, "Patrol")
    said = chat(FATIMA).text("العداد ٨٥ ألف")
    assert said.startswith(text("veh_km_saved", "ar", km="85,000", vehicle="Nissan Patrol 2022 (Abu Dhabi 12 18276)"))
    assert _date(due_date, "ar") in said and _km(due_km) in said
    assert [r.reading_km for r in _new_readings(demo_app)] == [85_000]


def test_a_lower_reading_is_refused_and_asked_again_in_arabic(chat, demo_app) -> None:
    c = chat(FATIMA)
    said = c.text("العداد ٧٠ ألف")
    assert said == text("veh_km_backwards", "ar", km="70,000", last="83,232", date=_date(date(2026, 6, 30), "ar"),
                        vehicle="Nissan Patrol 2022 (Abu Dhabi 12 18276)")
    assert _new_readings(demo_app) == []
    assert c.text("٨٦٠٠٠").startswith(text("veh_km_saved", "ar", km="86,000",
                                             vehicle="Nissan Patrol 2022 (Abu Dhabi 12 18276)"))
    assert [r.reading_km for r in _new_readings(demo_app)] == [86_000]


def test_an_absurd_jump_is_confirmed_first_and_can_be_corrected(chat, demo_app) -> None:
    c = chat(AHMED)
    said = c.text("the Land Cruiser odometer shows 1,250,000 km")
    assert said.startswith("Just to be sure: 1,250,000 km would mean 1,130,535 km driven since the 119,465 km")
    assert _ids(c) == ["yes", "no"] and _new_readings(demo_app) == []
    assert c.text("no") == text("veh_km_ask_correct", "en")
    assert c.text("125000").startswith(text("veh_km_saved", "en", km="125,000",
                                            vehicle="Toyota Land Cruiser 2020 (Dubai DD 24177)"))
    assert [r.reading_km for r in _new_readings(demo_app)] == [125_000]


def test_an_unusual_reading_the_customer_confirms_is_stored(chat, demo_app) -> None:
    c = chat(FATIMA)
    said = c.text("العداد ٣٠٠ ألف")
    assert said.startswith("للتأكد فقط") and _new_readings(demo_app) == []
    assert c.text("ممم").startswith(text("veh_km_confirm_again", "ar", km="300,000"))
    assert c.text("1").startswith(text("veh_km_saved", "ar", km="300,000",
                                       vehicle="Nissan Patrol 2022 (Abu Dhabi 12 18276)"))
    assert [r.reading_km for r in _new_readings(demo_app)] == [300_000]


def test_mileage_without_a_number_asks_for_it_and_re_asks_on_wrong_input(chat, demo_app) -> None:
    c = chat(AHMED)
    said = c.text("I want to update my odometer reading")
    assert text("veh_ask_vehicle_mileage", "en") in said
    said = _pick(c, next(o.id for o in c.last.options if "Lexus" in o.label))
    assert said == text("veh_ask_km", "en", vehicle="Lexus ES 2022 (Dubai U 93658)")
    assert c.text("no idea") == text("veh_km_again", "en")
    assert c.text("81,000 km").startswith(text("veh_km_saved", "en", km="81,000",
                                               vehicle="Lexus ES 2022 (Dubai U 93658)"))
    assert [r.reading_km for r in _new_readings(demo_app)] == [81_000]


def test_mileage_for_someone_elses_vin_stores_nothing_and_strangers_are_refused(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        vin = _vehicle(s, FATIMA, "Patrol").vin
    c = chat(AHMED)
    said = c.text(f"mileage for VIN {vin}: 90,000 km")
    assert said.startswith(text("veh_not_yours", "en", ref=vin)) and "Patrol" not in said
    assert _new_readings(demo_app) == []
    assert chat(STRANGER).text("العداد ٨٥ ألف").startswith(text("need_customer", "ar"))
    assert _new_readings(demo_app) == []


@pytest.mark.parametrize("said", ["when is my next service due?", "any recalls on my cars?", "العداد ٨٥ ألف",
                                  "show me my service history"])
def test_a_customer_without_a_car_is_told_so(chat, demo_app, said: str) -> None:
    with demo_app.transaction() as s:
        s.add(Customer(phone="+971559876543", name="Sam", preferred_language="en", created_at=demo_app.clock.now(),
                       updated_at=demo_app.clock.now()))
    language = "ar" if re.search(r"[\u0600-\u06ff]", said) else "en"
    assert chat("+971559876543").text(said).startswith(text("no_vehicles", language))
    assert _new_readings(demo_app) == []


def test_service_history_for_one_kind_of_work_lists_only_that_work(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        lexus = _vehicle(s, AHMED, "ES")
        rotation = s.scalar(select(ServiceRecord).where(ServiceRecord.vehicle_id == lexus.id,
                                                        ServiceRecord.work.like("Tyre rotation%")))
        others = [r.service_date for r in lexus.service_records if r.service_date != rotation.service_date]
    said = chat(AHMED).text("when did I last replace the tyres on the Lexus")
    assert "(1 on record)" in said and _date(rotation.service_date) in said
    assert all(_date(day) not in said for day in others)


def test_asking_for_the_next_service_instead_of_a_reading_leaves_the_mileage_flow(chat, demo_app) -> None:
    due_date, _, _ = _expected_due(demo_app, FATIMA, "Patrol")
    c = chat(FATIMA)
    assert c.text("ابي احدث قراءة العداد") == text("veh_ask_km", "ar", vehicle="Nissan Patrol 2022 (Abu Dhabi 12 18276)")
    assert _date(due_date, "ar") in c.text("متى الصيانة الجاية للباترول؟")
    assert _new_readings(demo_app) == []


@pytest.mark.parametrize("language", ["en", "ar"])
def test_booking_from_the_due_service_answer_keeps_the_chosen_car(chat, language) -> None:
    c = chat(AHMED)  # two cars: the booking must not ask again which one
    c.text("when is my Lexus due for its next service?" if language == "en" else "متى الصيانة الجاية لسيارتي اللكزس؟")
    book = next(o.id for o in c.last.options if o.id.startswith("intent:book_service"))
    said = _pick(c, book)
    assert text("appt_ask_vehicle", language) not in said
    assert "Lexus ES" in said or "Lexus" in said  # the service question names the chosen car
