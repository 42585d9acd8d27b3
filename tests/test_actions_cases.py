"""Warranty coverage and claims, complaints, case status and feedback (actions/warranty, actions/complaints,
actions/feedback):
scenario tests through the real core and Rasa server on the demo data, in English and Arabic."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from actions import registry  # noqa: F401  (every domain's handlers and texts)
from actions.feedback.rules import parse_rating
from actions.kit.catalog import text
from actions.kit.types import Media
from actions.warranty.rules import is_safety
from db.models import (
    CaseNote,
    ConversationState,
    Complaint,
    Customer,
    Feedback,
    Lead,
    MileageReading,
    OutboxMessage,
    Vehicle,
    Warranty,
    WarrantyClaim,
)

# --- isolation ---------------------------------------------------------------------------------------------------
# Everything a test writes is rolled back (conftest); only rows newer than the test's start are counted all the
# same, and no conversation starts in the middle of a flow, whatever ran before.

_BASE: dict[str, int] = {"WarrantyClaim": 0, "Complaint": 0, "Feedback": 0, "Lead": 0, "OutboxMessage": 0}


@pytest.fixture(autouse=True)
def _fresh_conversations(request: pytest.FixtureRequest) -> None:
    """No conversation in the middle of a flow, and the newest ids before the test."""
    if "demo_app" not in request.fixturenames:
        return
    demo_app = request.getfixturevalue("demo_app")
    with demo_app.transaction() as s:
        s.execute(delete(ConversationState))
        for model in (WarrantyClaim, Complaint, Feedback, Lead, OutboxMessage):
            _BASE[model.__name__] = s.scalar(select(func.max(model.id))) or 0


AHMED = "+971501234567"
FATIMA = "+971552345678"
STRANGER = "+971509999999"
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # Thu 10:00 in Dubai (tests/conftest.py TEST_NOW)
TODAY_2100_DUBAI = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)


def _customer(session, phone: str) -> Customer:
    return session.scalar(select(Customer).where(Customer.phone == phone))


def _vehicle(session, phone: str, model: str) -> Vehicle:
    customer = _customer(session, phone)
    return next(v for v in customer.vehicles if v.model == model)


def _warranty(session, vehicle: Vehicle) -> Warranty:
    return session.scalar(select(Warranty).where(Warranty.vehicle_id == vehicle.id))


def _claims(demo_app, phone: str) -> list[WarrantyClaim]:
    with demo_app.transaction() as s:
        customer = _customer(s, phone)
        return list(s.scalars(select(WarrantyClaim).where(
            WarrantyClaim.customer_id == customer.id, WarrantyClaim.id > _BASE["WarrantyClaim"])))


def _complaints(demo_app, phone: str) -> list[Complaint]:
    with demo_app.transaction() as s:
        customer = _customer(s, phone)
        return list(s.scalars(select(Complaint).where(
            Complaint.customer_id == customer.id, Complaint.id > _BASE["Complaint"])))


def _alert(demo_app, key: str) -> OutboxMessage | None:
    with demo_app.transaction() as s:
        return s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))


def _option_ids(c) -> list[str]:
    return [o.id for o in c.last.options]


def _pick(c, option_id: str):
    """Choose an offered option by its number, as a WhatsApp customer would."""
    return c.text(str(_option_ids(c).index(option_id) + 1))


# --- the catalog and the rating parser ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "rating"),
    [
        ("5", 5), ("⭐⭐⭐⭐", 4), ("٤", 4), ("4/5", 4), ("I'd give you 4 out of 5", 4), ("3 stars, ok", 3),
        ("five stars!", 5), ("خمس نجوم", 5), ("الخدمة كانت سيئة ٢ من ٥", 2), ("rate it 1, terrible", 1),
        ("★★", 2), ("أعطيكم ٣", 3), ("نجمتين بس", 2),
    ],
)
def test_ratings_are_read_in_every_form_customers_write_them(said: str, rating: int) -> None:
    assert parse_rating(said, lenient=True) == rating


@pytest.mark.parametrize("said", ["I waited 3 hours for my car", "the invoice was 450 AED", "great", "7/10", "0"])
def test_numbers_that_are_not_ratings_are_not_taken_for_one(said: str) -> None:
    assert parse_rating(said) is None


@pytest.mark.parametrize(
    ("said", "safety"),
    [
        ("the brakes are failing on the highway", True), ("smoke came out of the bonnet", True),
        ("the airbag light stays on", True), ("طلع دخان من المحرك", True), ("الفرامل ما تشتغل زين", True),
        ("the tower of tyres was blocking the exit", False), ("الإنارة في صالة الانتظار ضعيفة", False),
        ("I was charged twice for the oil change", False), ("الموظف ما رد علي", False),
    ],
)
def test_safety_issues_are_told_from_ordinary_complaints(said: str, safety: bool) -> None:
    assert is_safety(said) is safety


# --- warranty_coverage ----------------------------------------------------------------------------------------


def test_coverage_in_english_asks_which_car_then_shows_its_own_terms(chat, demo_app) -> None:
    c = chat(AHMED)
    c.say("what does my warranty cover")
    assert c.last.text == text("warranty_choose_vehicle", "en")
    assert [o.id.split(":")[0] for o in c.last.options] == ["vehicle", "vehicle"]
    with demo_app.transaction() as s:
        lexus = _vehicle(s, AHMED, "ES")
        warranty = _warranty(s, lexus)
        contract, limit, end = warranty.contract_number, warranty.mileage_limit_km, warranty.end_date
        reading = max(m.reading_km for m in lexus.mileage_readings)
        other_contract = _warranty(s, _vehicle(s, FATIMA, "Patrol")).contract_number
        lexus_option = f"vehicle:{lexus.id}"
    said = c.text("the blue one")  # wrong input: re-asked, still in the step
    assert text("veh_choose_again", "en") in said
    answer = _pick(c, lexus_option)
    assert "Extended Cover" in answer and contract in answer
    assert end.strftime("%-d %b %Y") in answer
    assert f"{limit - reading:,} km left" in answer
    assert f"{(end - date(2026, 11, 26)).days} days" in answer
    assert "Engine" in answer and "Tyres" in answer  # covered and excluded
    assert "Comprehensive Cover" in answer and "4,950" in answer  # how to upgrade
    assert other_contract not in answer
    assert "advisor" in _option_ids(c)


def test_coverage_of_a_named_component_says_whether_and_why(chat) -> None:
    c = chat(AHMED)
    answer = c.text("is the air conditioning covered on my lexus")
    assert "No — Air conditioning: it is not part of your Extended Cover" in answer
    assert "Comprehensive Cover" in answer  # the tier that would cover it
    assert any(o.startswith("intent:book_service?vehicle=") for o in _option_ids(c))
    answer = c.text("and are the brake pads covered on my lexus?")
    assert "No — Brake pads: your Extended Cover" in answer and text("warranty_why_wear", "en") in answer


def test_coverage_in_arabic_for_a_covered_component_and_the_terms(chat, demo_app) -> None:
    c = chat(FATIMA)
    answer = c.text("هل المكيف مشمول بالضمان")
    assert answer.startswith("نعم — المكيف: مشمول في التغطية الشاملة")
    assert "intent:warranty_claim" in _option_ids(c)
    with demo_app.transaction() as s:
        contract = _warranty(s, _vehicle(s, FATIMA, "Patrol")).contract_number
    c2 = chat(FATIMA)
    answer = c2.text("وش يغطي الضمان حقي")
    assert "التغطية الشاملة" in answer and contract in answer and "مشمول:" in answer and "غير مشمول:" in answer
    assert "مارس 2029" in answer
    assert "Land Cruiser" not in answer and "WR-2025" not in answer  # nobody else's cars


def test_coverage_of_a_car_without_a_warranty_explains_how_to_get_one(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        s.delete(_warranty(s, _vehicle(s, FATIMA, "Patrol")))
    c = chat(FATIMA)
    said = c.text("وش يغطي الضمان حقي")
    assert "لا يوجد ضمان لدينا على هذه السيارة" in said
    assert "التغطية الأساسية" in said and "950 درهم" in said and "4,950 درهم" in said
    said = chat(FATIMA).text("المكيف خربان وأبي أطالب بالضمان")
    assert said.startswith(text("claim_refused_none", "ar", vehicle="Nissan Patrol 2022 (Abu Dhabi 12 18276)"))
    assert _claims(demo_app, FATIMA) == []


def test_coverage_for_an_unknown_sender_shows_no_customer_data(chat) -> None:
    c = chat(STRANGER)
    answer = c.text("what does my warranty cover")
    assert answer.startswith(text("need_customer", "en"))
    assert "WR-" not in answer


def test_asking_an_advisor_about_an_upgrade_leaves_a_lead_for_staff(chat, demo_app) -> None:
    c = chat(FATIMA)
    c.say("وش يغطي الضمان حقي")
    answer = _pick(c, "advisor")
    assert "سيتصل بك مستشار الضمان خلال 24 ساعة" in answer
    with demo_app.transaction() as s:
        fatima = _customer(s, FATIMA)
        lead = s.scalar(select(Lead).where(Lead.customer_id == fatima.id, Lead.id > _BASE["Lead"]))
        assert lead.kind == "callback" and lead.details["tier"] == "comprehensive"
    assert _alert(demo_app, f"alert:lead:{lead.id}") is not None


# --- warranty_claim -------------------------------------------------------------------------------------------


def test_claim_in_english_with_photos_opens_a_ticket_with_a_same_day_deadline(chat, demo_app) -> None:
    c = chat(AHMED)
    first = "The engine of my Land Cruiser makes a knocking noise, I want to claim it under warranty"
    said = c.text(first)  # the fault described up front: not asked again, only the photos
    assert said.startswith(text("claim_described_ask_photos", "en", description=first))
    photo = Media("https://files.example.test/engine-light.jpg", "image/jpeg")
    said = c.text("", media=(photo,))
    assert text("claim_photos_received", "en", count=1) in said
    said = _pick(c, "done")
    [claim] = _claims(demo_app, AHMED)
    assert claim.ticket_id in said and "WC-" in said and ", with 1 photo." in said
    assert claim.component == "engine" and claim.status == "open"
    assert claim.photos == [photo.url]
    assert "knocking" in claim.description
    assert claim.respond_by == TODAY_2100_DUBAI  # same-day answer
    assert "today 21:00" in said
    with demo_app.transaction() as s:
        assert s.get(Vehicle, claim.vehicle_id).model == "Land Cruiser"
    alert = _alert(demo_app, f"alert:warranty_claim:{claim.id}")
    assert alert is not None and alert.channel == "staff" and alert.payload["ticket"] == claim.ticket_id


def test_claim_in_arabic_picks_the_part_and_submits_without_photos(chat, demo_app) -> None:
    c = chat(FATIMA)
    said = c.text("ابي اقدم مطالبة ضمان على سيارتي")
    assert said.startswith(text("claim_ask_component", "ar"))
    said = c.text("مدري والله")  # wrong input: re-asked with the parts
    assert said.startswith(text("claim_ask_component_again", "ar"))
    said = c.text("المكيف")
    assert said == text("claim_ask_description", "ar")
    c.say("المكيف يطلع هواء حار من أمس والحرارة عالية")
    assert c.last.text == text("claim_ask_photos", "ar")
    said = c.text(text("claim_submit_no_photos", "ar"))
    [claim] = _claims(demo_app, FATIMA)
    assert claim.component == "air_conditioning" and claim.photos == []
    assert claim.ticket_id in said and "اليوم 21:00" in said
    assert _claims(demo_app, AHMED) == []


def test_a_claim_after_the_evening_cutoff_is_answered_the_next_morning(chat, demo_app) -> None:
    demo_app.clock.advance(timedelta(hours=9))  # 19:00 in Dubai
    c = chat(FATIMA)
    c.say("المكيف خربان وأبي أطالب بالضمان")
    c.say("المكيف ما يبرد أبداً من يومين")
    said = c.text("1")
    [claim] = _claims(demo_app, FATIMA)
    assert claim.respond_by == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # tomorrow 12:00 Dubai
    assert "غداً 12:00" in said


def test_claim_is_refused_politely_when_the_warranty_ended_by_date_and_offers_a_paid_repair(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        warranty = _warranty(s, _vehicle(s, AHMED, "ES"))
        warranty.end_date = date(2026, 11, 20)
    c = chat(AHMED)
    said = c.text("my Lexus gearbox is jerking, please open a warranty claim")
    assert said.startswith("I am sorry, the Extended Cover on your Lexus ES 2022") and "ended on Fri 20 Nov 2026" in said
    assert _option_ids(c) == ["intent:book_service", "intent:human_agent"]
    assert _claims(demo_app, AHMED) == []
    reply = c.text("1")  # the paid booking starts the booking flow
    assert not reply.startswith(text("fallback_reply", "en"))


def test_claim_is_refused_in_arabic_when_the_odometer_passed_the_limit(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        patrol = _vehicle(s, FATIMA, "Patrol")
        limit = _warranty(s, patrol).mileage_limit_km
        s.add(MileageReading(vehicle_id=patrol.id, reading_km=limit + 1_200, source="customer",
                             recorded_at=NOW - timedelta(days=1)))
    c = chat(FATIMA)
    said = c.text("المكيف خربان وأبي أطالب بالضمان")
    assert f"{limit:,} كم" in said and f"{limit + 1_200:,} كم" in said
    assert "intent:book_service" in _option_ids(c)
    assert _claims(demo_app, FATIMA) == []


def test_claim_for_an_excluded_part_is_refused_with_the_reason(chat, demo_app) -> None:
    c = chat(AHMED)
    said = c.text("I want to make a warranty claim for the battery of my Lexus")
    assert said.startswith(text("claim_refused_excluded", "en", component="Battery", tier="Extended Cover",
                                reason=text("warranty_why_wear", "en")))
    assert "intent:book_service" in _option_ids(c)
    c2 = chat(FATIMA)
    said = c2.text("ابي اقدم مطالبة ضمان على البطارية")
    assert said.startswith(text("claim_refused_excluded", "ar", component="البطارية", tier="التغطية الشاملة",
                                reason=text("warranty_why_wear", "ar")))
    assert _claims(demo_app, AHMED) == [] and _claims(demo_app, FATIMA) == []


def test_claim_offers_only_the_customers_own_cars(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        patrol_id = _vehicle(s, FATIMA, "Patrol").id
    c = chat(AHMED)
    c.say("I want to claim warranty for my car")
    assert c.last.text == text("claim_choose_vehicle", "en")
    assert f"vehicle:{patrol_id}" not in _option_ids(c)
    said = c.text(payload=f"vehicle:{patrol_id}")  # someone else's car: not an offered choice
    assert said.startswith(text("veh_choose_again", "en"))
    assert _claims(demo_app, AHMED) == [] and _claims(demo_app, FATIMA) == []


def test_claim_for_a_part_in_the_customers_own_words(chat, demo_app) -> None:
    with demo_app.transaction() as s:
        cruiser = f"vehicle:{_vehicle(s, AHMED, 'Land Cruiser').id}"
    c = chat(AHMED)
    c.say("I want to claim warranty for my car")
    said = _pick(c, cruiser)
    assert said.startswith(text("claim_ask_component", "en"))
    assert "Engine" in c.options and "Air conditioning" not in c.options  # the parts this cover includes
    said = _pick(c, "component:other")
    assert said == text("claim_ask_component_other", "en")
    said = c.text("the sunroof motor")
    assert said == text("claim_ask_description", "en")
    said = c.text("?")  # wrong input: re-asked
    assert said == text("claim_ask_description_again", "en")
    c.say("The sunroof stops half way and makes a grinding noise since yesterday")
    c.say(text("claim_submit_no_photos", "en"))
    [claim] = _claims(demo_app, AHMED)
    assert claim.component == "other: the sunroof motor" and claim.photos == []
    assert "the sunroof motor on your Toyota Land Cruiser 2020" in c.last.text


def test_claim_from_an_unknown_sender_gets_the_customer_data_answer(chat) -> None:
    c = chat(STRANGER)
    assert c.text("ابي اقدم مطالبة ضمان على البطارية").startswith(text("need_customer", "ar"))


# --- complaint ------------------------------------------------------------------------------------------------


def test_complaint_in_english_opens_a_ticket_with_sla_deadlines(chat, demo_app) -> None:
    c = chat(AHMED)
    said = c.text("I want to complain about the rude staff at Dubai branch")
    assert said.startswith(text("complaint_ask_category", "en"))
    said = c.text("hmm")  # wrong input: re-asked
    assert said.startswith(text("complaint_ask_category_again", "en"))
    c.say(text("complaint_cat_staff", "en"))
    assert c.last.text == text("complaint_ask_description", "en")
    assert _option_ids(c) == ["first"]  # the first message already described it
    said = c.text("The advisor shouted at me when I asked why my car was not ready on Tuesday")
    [ticket] = _complaints(demo_app, AHMED)
    assert ticket.category == "staff" and ticket.severity == "normal" and ticket.source == "chat"
    assert ticket.status == "acknowledged" and ticket.acknowledged_at == NOW
    assert ticket.respond_by == NOW + timedelta(hours=48)
    assert ticket.resolve_by > ticket.respond_by
    assert ticket.ticket_id in said and "48 hours" in said and "Sat 28 Nov 2026 10:00" in said
    alert = _alert(demo_app, f"alert:complaint:{ticket.id}")
    assert alert is not None and alert.payload["severity"] == "normal"


def test_a_long_first_message_is_the_description_once_the_category_is_chosen(chat, demo_app) -> None:
    c = chat(AHMED)
    first = "I have a complaint, my car came back yesterday with a new scratch on the rear door and nobody told me"
    c.say(first)
    assert c.last.text.startswith(text("complaint_ask_category", "en"))  # no category word in it
    said = c.text(text("complaint_cat_service_quality", "en"))
    [ticket] = _complaints(demo_app, AHMED)  # not asked to write it all again
    assert ticket.category == "service_quality" and ticket.description == first and ticket.ticket_id in said


def test_a_complaint_described_in_the_first_message_is_opened_at_once(chat, demo_app) -> None:
    c = chat(FATIMA)
    said = c.text("عندي شكوى، انتظرت في الفرع أكثر من ثلاث ساعات والسيارة ما خلصت وما أحد اتصل علي يبلغني بالتأخير")
    [ticket] = _complaints(demo_app, FATIMA)
    assert ticket.category == "delay" and ticket.ticket_id in said
    assert "ثلاث ساعات" in ticket.description


def test_a_complaint_described_with_a_photo_and_a_place_keeps_the_photo_apart_and_the_place_in_the_text(
        chat, demo_app) -> None:
    c = chat(AHMED)
    c.say("I want to file a complaint about the service")
    c.say(text("complaint_cat_service_quality", "en"))
    photo, place = Media("tg-file:AgADscratch", "image/jpeg"), Media("geo:25.2,55.3", "application/geo+uri")
    said = c.text("The advisor shouted at me when I asked why my car was not ready on Tuesday", media=(photo, place))
    [ticket] = _complaints(demo_app, AHMED)
    assert ticket.ticket_id in said
    assert ticket.photos == ["tg-file:AgADscratch"]
    assert ticket.description == ("The advisor shouted at me when I asked why my car was not ready on Tuesday"
                                  "\ngeo:25.2,55.3")


def test_the_complaint_answer_time_is_configurable(chat, demo_app) -> None:
    demo_app.settings.complaint_response_hours = 72
    c = chat(AHMED)
    c.say("I want to file a complaint about the service")
    c.say("1")
    said = c.text("The car came back dirty and the oil leak was not fixed at all")
    [ticket] = _complaints(demo_app, AHMED)
    assert ticket.respond_by == NOW + timedelta(hours=72)
    assert "72 hours" in said and "Sun 29 Nov 2026 10:00" in said


def test_a_safety_complaint_in_arabic_is_answered_the_same_day(chat, demo_app) -> None:
    c = chat(FATIMA)
    said = c.text("أبي أشتكي على الخدمة")
    assert said.startswith(text("complaint_ask_category", "ar"))
    c.say(text("complaint_cat_vehicle_fault", "ar"))
    assert c.last.text == text("complaint_ask_description", "ar")
    said = c.text("بعد الصيانة بيومين طلع دخان من المحرك والسيارة واقفة عند البيت")
    [ticket] = _complaints(demo_app, FATIMA)
    assert ticket.severity == "safety" and ticket.category == "vehicle_fault"
    assert ticket.respond_by == TODAY_2100_DUBAI
    assert ticket.ticket_id in said and "اليوم 21:00" in said
    assert _option_ids(c) == ["intent:roadside_assistance"]
    assert _alert(demo_app, f"alert:complaint:{ticket.id}").payload["urgent"] is True
    assert _complaints(demo_app, AHMED) == []


def test_complaint_from_an_unknown_sender_gets_the_customer_data_answer(chat, demo_app) -> None:
    c = chat(STRANGER)
    assert c.text("I want to file a complaint about the service").startswith(text("need_customer", "en"))


# --- case_status ----------------------------------------------------------------------------------------------


def _seed_cases(demo_app) -> dict[str, str]:
    """A claim and two complaints of Ahmed's (one overdue), and a complaint of Fatima's."""
    with demo_app.transaction() as s:
        ahmed, fatima = _customer(s, AHMED), _customer(s, FATIMA)
        cruiser = _vehicle(s, AHMED, "Land Cruiser")
        claim = WarrantyClaim(customer_id=ahmed.id, vehicle_id=cruiser.id, warranty_id=_warranty(s, cruiser).id,
                              component="transmission", description="Jerks between 2nd and 3rd", photos=[],
                              status="in_review", respond_by=NOW + timedelta(hours=6),
                              created_at=NOW - timedelta(hours=3), updated_at=NOW - timedelta(hours=1))
        late = Complaint(customer_id=ahmed.id, category="delay", severity="normal", description="Car kept 5 days",
                         source="chat", status="acknowledged", acknowledge_by=NOW - timedelta(days=3),
                         acknowledged_at=NOW - timedelta(days=3), respond_by=NOW - timedelta(days=1),
                         resolve_by=NOW + timedelta(days=4), created_at=NOW - timedelta(days=3),
                         updated_at=NOW - timedelta(days=3))
        theirs = Complaint(customer_id=fatima.id, category="billing", severity="normal",
                           description="Charged twice", source="chat", status="in_progress",
                           acknowledge_by=NOW - timedelta(days=1), acknowledged_at=NOW - timedelta(days=1),
                           respond_by=NOW + timedelta(days=1), resolve_by=NOW + timedelta(days=6),
                           created_at=NOW - timedelta(days=1), updated_at=NOW - timedelta(hours=2))
        s.add_all([claim, late, theirs])
        s.flush()
        s.add_all([
            CaseNote(warranty_claim_id=claim.id, body="Inspection booked for Saturday 9:00 at Dubai.",
                     visible_to_customer=True, created_at=NOW - timedelta(hours=1)),
            CaseNote(warranty_claim_id=claim.id, body="internal: check TSB 22-041 first",
                     visible_to_customer=False, created_at=NOW - timedelta(minutes=30)),
            CaseNote(complaint_id=theirs.id, body="تم التواصل مع قسم الحسابات لاسترداد المبلغ.",
                     visible_to_customer=True, created_at=NOW - timedelta(hours=2)),
        ])
        return {"claim": claim.ticket_id, "late": late.ticket_id, "theirs": theirs.ticket_id}


def test_case_status_lists_the_customers_own_cases_in_english(chat, demo_app) -> None:
    tickets = _seed_cases(demo_app)
    c = chat(AHMED)
    said = c.text("what's the status of my complaints")
    assert tickets["claim"] in said and tickets["late"] in said
    assert not re.search(rf"(?<!W){tickets['theirs']}\b", said) and "Charged twice" not in said
    assert "Inspection booked for Saturday 9:00 at Dubai." in said and "TSB" not in said  # visible notes only
    assert "Status: under review" in said and "Next deadline: our answer by today 16:00" in said
    assert text("case_status_overdue", "en") in said
    assert _alert(demo_app, f"alert:case_overdue:{tickets['late']}:2026-11-26") is not None


def test_case_status_by_ticket_id_and_someone_elses_ticket_is_not_found(chat, demo_app) -> None:
    tickets = _seed_cases(demo_app)
    c = chat(AHMED)
    said = c.text(f"what is the status of {tickets['claim']}")
    assert said.startswith(f"{tickets['claim']} — warranty claim, Transmission (gearbox)")
    said = c.text(f"any update on my complaint {tickets['theirs']}")
    assert said.startswith(text("case_status_not_found", "en", ticket=tickets["theirs"]))
    assert "Charged twice" not in said and "billing" not in said.lower()
    said = c.text("status of C-999999")
    assert said.startswith(text("case_status_not_found", "en", ticket="C-999999"))


def test_case_status_in_arabic_by_ticket_id(chat, demo_app) -> None:
    tickets = _seed_cases(demo_app)
    c = chat(FATIMA)
    said = c.text(f"وش حالة الشكوى {tickets['theirs']}")
    assert said.startswith(f"{tickets['theirs']} — شكوى: السعر أو الفاتورة")
    assert "الحالة: قيد المعالجة" in said and "تم التواصل مع قسم الحسابات" in said
    assert "الموعد التالي: ردّنا بحلول غداً 10:00" in said
    said = c.text(f"وش حالة الشكوى {tickets['late']}")  # Ahmed's
    assert said.startswith(text("case_status_not_found", "ar", ticket=tickets["late"]))


def test_case_status_with_no_cases_and_for_an_unknown_sender(chat) -> None:
    c = chat(FATIMA)
    assert c.text("وين وصلت مطالبتي").startswith(text("case_status_none", "ar"))
    stranger = chat(STRANGER)
    assert stranger.text("what is the status of C-1").startswith(text("need_customer", "en"))


def test_a_claim_opened_in_chat_shows_in_its_status(chat, demo_app) -> None:
    c = chat(FATIMA)
    c.say("المكيف خربان وأبي أطالب بالضمان")
    c.say("المكيف ما يبرد أبداً من يومين")
    c.say("1")
    [claim] = _claims(demo_app, FATIMA)
    said = c.text(f"وش حالة المطالبة {claim.ticket_id}")
    assert "الحالة: مستلمة، بانتظار المراجعة" in said and "الموعد التالي: ردّنا بحلول اليوم 21:00" in said


# --- feedback -------------------------------------------------------------------------------------------------


def test_feedback_in_english_with_rating_and_comment_in_one_message(chat, demo_app) -> None:
    c = chat(AHMED)
    said = c.text("rate your service: 5 stars, great job")
    assert said == text("feedback_thanks_high", "en", rating=5)
    with demo_app.transaction() as s:
        [row] = s.scalars(select(Feedback).where(
            Feedback.customer_id == _customer(s, AHMED).id, Feedback.id > _BASE["Feedback"]))
        assert row.rating == 5 and "great job" in row.comment and row.complaint_id is None
    assert _complaints(demo_app, AHMED) == []


def test_low_feedback_in_english_opens_a_complaint_automatically(chat, demo_app) -> None:
    c = chat(AHMED)
    said = c.text("I have feedback about my service visit")
    assert said.startswith(text("feedback_ask_rating", "en"))
    said = c.text("meh")  # wrong input: re-asked
    assert said.startswith(text("feedback_ask_rating_again", "en"))
    said = c.text("⭐⭐")
    assert said.startswith(text("feedback_ask_comment", "en"))
    said = c.text("Nobody called me back and the car was ready two days late")
    [ticket] = _complaints(demo_app, AHMED)
    assert ticket.source == "feedback" and ticket.category == "delay" and ticket.severity == "normal"
    assert ticket.respond_by == NOW + timedelta(hours=48)
    with demo_app.transaction() as s:
        [row] = s.scalars(select(Feedback).where(
            Feedback.customer_id == _customer(s, AHMED).id, Feedback.id > _BASE["Feedback"]))
        assert row.rating == 2 and row.complaint_id == ticket.id
    assert said == text("feedback_low", "en", rating=2, ticket=ticket.ticket_id, respond_by="Sat 28 Nov 2026 10:00")
    assert _alert(demo_app, f"alert:complaint:{ticket.id}").payload["source"] == "feedback"


def test_feedback_in_arabic_with_arabic_digits_and_no_comment(chat, demo_app) -> None:
    c = chat(FATIMA)
    said = c.text("أبغى أقيم الخدمة")
    assert said.startswith(text("feedback_ask_rating", "ar"))
    said = c.text("٤")
    assert said.startswith(text("feedback_ask_comment", "ar"))
    said = c.text("لا شكراً")
    assert said == text("feedback_thanks_high", "ar", rating=4)
    with demo_app.transaction() as s:
        [row] = s.scalars(select(Feedback).where(
            Feedback.customer_id == _customer(s, FATIMA).id, Feedback.id > _BASE["Feedback"]))
        assert row.rating == 4 and row.comment is None


def test_a_one_star_arabic_rating_opens_a_complaint(chat, demo_app) -> None:
    c = chat(FATIMA)
    said = c.text("الخدمة كانت سيئة ١ من ٥ والموظف ما رد علي")
    [ticket] = _complaints(demo_app, FATIMA)
    assert ticket.source == "feedback" and ticket.ticket_id in said
    assert said.startswith("شكراً لتقييمك الصريح 1/5")


def test_feedback_from_an_unknown_sender_gets_the_customer_data_answer(chat) -> None:
    c = chat(STRANGER)
    assert c.text("rate your service: 5 stars, great job").startswith(text("need_customer", "en"))


def test_overdue_cases_are_found_and_escalated_without_a_conversation(demo_app) -> None:
    """What a scheduler job does: find every case past its deadline and alert customer care once a day."""
    from actions.complaints.service import escalate_overdue, overdue_cases

    tickets = _seed_cases(demo_app)
    with demo_app.transaction() as s:
        late = overdue_cases(s, NOW)
        assert tickets["late"] in [o.ticket for o in late]
        assert tickets["claim"] not in [o.ticket for o in late] and tickets["theirs"] not in [o.ticket for o in late]
        mine = [o for o in late if o.ticket == tickets["late"]]
        assert mine[0].deadline == "answer" and mine[0].due == NOW - timedelta(days=1)
        assert escalate_overdue(s, NOW, demo_app.settings.tz, mine) == 1
        assert escalate_overdue(s, NOW + timedelta(hours=1), demo_app.settings.tz, mine) == 0  # once a day
    alert = _alert(demo_app, f"alert:case_overdue:{tickets['late']}:2026-11-26")
    assert alert is not None and alert.recipient == "customer-care" and alert.payload["deadline"] == "answer"
