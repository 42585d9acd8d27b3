"""Scenario tests: trade_in, finance, parts_order (actions/tradein, finance, parts); dealership_info and roadside_assistance
(actions/info.py) — both languages, wrong input re-asked, other customers' data never shown, unknown senders.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from actions.kit.cars import car_in_text
from actions.leads.rules import parse_amount
from actions.parts.service import names_a_part
from actions.kit.catalog import text
from actions.kit.types import Media
from db.models import (
    Branch,
    BranchHours,
    ChannelIdentity,
    Customer,
    Lead,
    MileageReading,
    OutboxMessage,
    UpgradeWish,
    Vehicle,
)

AHMED = "+971501234567"
FATIMA = "+971552345678"
STRANGER = "+971509999999"


# Rows other tests (and, on SQLite, earlier tests: see `_isolated`) may have left: only newer ones count.
BASELINE: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _isolated(request):
    """Each test starts from fresh conversations and counts only the rows it wrote.

    On SQLite the demo database's outer transaction begins lazily (pysqlite opens a transaction only before
    a DML statement), so the core's SAVEPOINT ... RELEASE would commit for real and leak into later tests;
    one DML statement first opens the real transaction, and the savepoints nest inside it.
    """
    if "demo_app" not in request.fixturenames:
        yield
        return
    demo_app = request.getfixturevalue("demo_app")
    connection = demo_app.sessions.kw["bind"]
    phones = ", ".join(f"'{p}'" for p in (AHMED, FATIMA, STRANGER))
    mine = f"SELECT id FROM channel_identities WHERE external_id IN ({phones})"
    connection.exec_driver_sql(f"DELETE FROM conversation_states WHERE channel_identity_id IN ({mine})")
    connection.exec_driver_sql(f"DELETE FROM handoffs WHERE channel_identity_id IN ({mine})")
    for table in ("leads", "outbox", "upgrade_wishes"):
        BASELINE[table] = connection.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}").scalar()
    yield


# --- helpers ---------------------------------------------------------------------------------------------


def _customer(s, phone):
    return s.scalar(select(Customer).where(Customer.phone == phone))


def _vehicles(s, phone):
    customer = _customer(s, phone)
    return list(s.scalars(select(Vehicle).where(Vehicle.customer_id == customer.id).order_by(Vehicle.id)))


def _leads(s, kind=None):
    query = select(Lead).where(Lead.id > BASELINE["leads"]).order_by(Lead.id)
    if kind:
        query = query.where(Lead.kind == kind)
    return list(s.scalars(query))


def _identity(s, phone):
    return s.scalar(select(ChannelIdentity).where(ChannelIdentity.external_id == phone))


def _alerts(s, kind):
    return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind,
                                                      OutboxMessage.id > BASELINE["outbox"])
                          .order_by(OutboxMessage.id)))


def _last_km(s, vehicle):
    return s.scalar(
        select(MileageReading.reading_km)
        .where(MileageReading.vehicle_id == vehicle.id)
        .order_by(MileageReading.recorded_at.desc())
        .limit(1)
    )


def _branch(s, code):
    return s.scalar(select(Branch).where(Branch.code == code))


def _others_data(s, phone):
    """Plates and VINs of another customer, which must never appear."""
    return [v for veh in _vehicles(s, phone) for v in (veh.plate, veh.vin) if v]


def _all_text(conversation):
    return "\n".join(
        r.text + "\n" + "\n".join(o.label for o in r.options) for _, replies in conversation.history for r in replies
    )


# --- the catalog ------------------------------------------------------------------------------------------


def test_amounts_cars_and_parts_are_understood(demo_app):
    assert parse_amount("85,000 km") == 85_000
    assert parse_amount("85k") == 85_000
    assert parse_amount("٨٥ ألف كم") == 85_000
    assert parse_amount("AED 1.2 million") == 1_200_000
    assert parse_amount("a lot") is None
    with demo_app.transaction() as s:
        assert car_in_text(s, "valuation for my landcruiser") == ("Toyota", "Land Cruiser")
        assert car_in_text(s, "أبغى قطع غيار أصلية للباترول") == ("Nissan", "Patrol")
        assert car_in_text(s, "any Range Rover?") == ("Land Rover", "Range Rover")
        assert car_in_text(s, "something nice") == (None, None)
        assert names_a_part(s, "left side mirror for the Prado")
        assert names_a_part(s, "مراية جانبية يسار")
        assert not names_a_part(s, "I want to order spare parts for my Land Cruiser")
        assert not names_a_part(s, "أبغى قطع غيار أصلية للباترول")


# --- trade_in ----------------------------------------------------------------------------------------------


def test_trade_in_valuation_english_own_car(chat, demo_app):
    with demo_app.transaction() as s:
        cruiser = next(v for v in _vehicles(s, AHMED) if v.model == "Land Cruiser")
        last = _last_km(s, cruiser)
    c = chat(AHMED)
    c.say("how much would you give me for my Land Cruiser?")
    assert c.last.text == text("trade_ask_mileage", "en")
    assert [o.id for o in c.last.options] == [f"mileage:{last}"]

    c.say("a lot")  # wrong input: re-asked
    assert c.last.text == text("trade_mileage_again", "en")
    c.say(f"{last - 5000}")  # lower than the last reading: re-asked
    assert c.last.text == text("trade_mileage_lower", "en", last=f"{last:,}")
    c.say(f"{last + 2500:,} km")
    assert c.last.text == text("trade_ask_condition", "en")
    c.say("it has a few scratches")
    assert c.last.text.startswith(
        text("trade_valuation_done", "en", vehicle=f"Toyota Land Cruiser 2020 ({cruiser.plate})",
             km=f"{last + 2500:,}", condition=text("trade_condition_fair", "en"))
    )
    assert [o.id for o in c.last.options] == ["yes", "no"]
    c.say("no")
    assert c.last.text == text("leads_closing", "en")

    with demo_app.transaction() as s:
        [lead] = _leads(s, "trade_in_valuation")
        assert lead.customer_id == _customer(s, AHMED).id
        assert lead.vehicle_id == cruiser.id
        assert lead.details["mileage_km"] == last + 2500
        assert lead.details["condition"] == "fair"
        assert lead.status == "new" and lead.created_at == demo_app.clock.now()
        [alert] = [a for a in _alerts(s, "lead_new") if a.payload["lead_id"] == lead.id]
        assert alert.recipient == "sales" and alert.channel == "staff"
        assert not list(s.scalars(select(UpgradeWish).where(UpgradeWish.customer_id == lead.customer_id)
                                  .where(UpgradeWish.id > BASELINE["upgrade_wishes"])))


def test_trade_in_valuation_arabic(chat, demo_app):
    with demo_app.transaction() as s:
        [patrol] = _vehicles(s, FATIMA)
        last = _last_km(s, patrol)
        ahmed_data = _others_data(s, AHMED)
    c = chat(FATIMA)
    c.say("كم تعطوني في سيارتي لو بعتها لكم؟")
    assert c.last.text == text("leads_ask_vehicle", "ar")
    assert [o.id for o in c.last.options] == [f"vehicle:{patrol.id}", "vehicle:other"]
    c.say("ما أدري")  # wrong input: re-asked
    assert c.last.text == text("leads_vehicle_again", "ar")
    c.say("1")
    assert c.last.text == text("trade_ask_mileage", "ar")
    c.say("كثير")
    assert c.last.text == text("trade_mileage_again", "ar")
    km = (last // 1000 + 2) * 1000
    c.say(f"{km // 1000} ألف".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")))
    assert c.last.text == text("trade_ask_condition", "ar")
    c.say("ما أعرف")
    assert c.last.text == text("trade_condition_again", "ar")
    c.say("جيدة")
    assert text("trade_offer_upgrade", "ar") in c.last.text
    assert f"{km:,}" in c.last.text
    assert not any(d in _all_text(c) for d in ahmed_data)
    with demo_app.transaction() as s:
        [lead] = _leads(s, "trade_in_valuation")
        assert (lead.vehicle_id, lead.details["mileage_km"], lead.details["condition"]) == (patrol.id, km, "good")
        assert lead.details["language"] == "ar"


def test_trade_in_upgrade_wish_saved_with_stock_matches(chat, demo_app):
    c = chat(AHMED)
    c.say("let me know when a Nissan Patrol 2022 or newer arrives")
    assert c.last.text == text("trade_ask_budget", "en")
    c.say("cheap")  # wrong input
    assert c.last.text == text("trade_budget_again", "en")
    c.say("250k")
    assert text("trade_wish_saved", "en", wish="Nissan Patrol, 2022 or newer, up to AED 250,000") in c.last.text
    assert "Nissan Patrol 2023, 29,800 km, AED 215,000" in c.last.text  # in stock already
    assert c.last.text.endswith(text("trade_offer_valuation", "en"))
    c.say("no thanks")
    assert c.last.text == text("leads_closing", "en")
    with demo_app.transaction() as s:
        ahmed = _customer(s, AHMED)
        [wish] = s.scalars(select(UpgradeWish).where(UpgradeWish.customer_id == ahmed.id,
                                                     UpgradeWish.id > BASELINE["upgrade_wishes"]))
        assert (wish.make, wish.model, wish.min_year, wish.max_budget_aed) == ("Nissan", "Patrol", 2022,
                                                                               Decimal("250000"))
        [lead] = _leads(s, "upgrade")
        assert lead.customer_id == ahmed.id and lead.details["upgrade_wish_id"] == wish.id


def test_trade_in_upgrade_arabic_then_valuation(chat, demo_app):
    with demo_app.transaction() as s:
        [patrol] = _vehicles(s, FATIMA)
    c = chat(FATIMA)
    c.say("ابغى ابدل سيارتي بسيارة أحدث")
    assert c.last.text == text("trade_ask_car", "ar")
    c.say("شي حلو")  # names no car: re-asked
    assert c.last.text == text("trade_car_again", "ar")
    c.say("لاند كروزر 2022")
    assert c.last.text == text("trade_ask_budget", "ar")
    c.say("1")  # no fixed budget
    assert text("trade_wish_saved", "ar", wish="Toyota Land Cruiser، موديل 2022 أو أحدث") in c.last.text
    assert "Toyota Land Cruiser 2023" in c.last.text
    c.say("نعم")
    assert c.last.text == text("leads_ask_vehicle", "ar")  # now the valuation of her own car
    c.say("1")
    c.say("90000")
    c.say("ممتازة")
    assert c.last.text == text("trade_valuation_done", "ar", vehicle=f"Nissan Patrol 2022 ({patrol.plate})",
                               km="90,000", condition=text("trade_condition_excellent", "ar"))
    with demo_app.transaction() as s:
        fatima = _customer(s, FATIMA)
        [wish] = s.scalars(select(UpgradeWish).where(UpgradeWish.customer_id == fatima.id,
                                                     UpgradeWish.id > BASELINE["upgrade_wishes"]))
        assert (wish.make, wish.model, wish.min_year, wish.max_budget_aed) == ("Toyota", "Land Cruiser", 2022, None)
        assert {lead.kind for lead in _leads(s)} == {"upgrade", "trade_in_valuation"}


def test_trade_in_unknown_sender_leaves_a_lead_and_sees_no_customer_data(chat, demo_app):
    with demo_app.transaction() as s:
        others = _others_data(s, AHMED) + _others_data(s, FATIMA)
    c = chat(STRANGER)
    c.say("how much is my Altima worth?")
    assert c.last.text == text("trade_ask_mileage", "en")
    assert c.last.options == []  # no reading of anybody's car
    c.say("110000")
    c.say("2")
    assert c.last.text.startswith(text("trade_valuation_done", "en", vehicle="Nissan Altima", km="110,000",
                                       condition=text("trade_condition_good", "en")))
    c.say("yes")
    assert c.last.text == text("trade_ask_car", "en")
    c.say("Lexus LX 2021")
    c.say("400k")
    assert text("trade_wish_lead", "en", wish="Lexus LX, 2021 or newer, up to AED 400,000") in c.last.text
    assert not any(d in _all_text(c) for d in others)
    with demo_app.transaction() as s:
        identity = _identity(s, STRANGER)
        leads = _leads(s)
        assert [lead.kind for lead in leads] == ["trade_in_valuation", "upgrade"]
        assert all(lead.customer_id is None and lead.channel_identity_id == identity.id for lead in leads)
        assert leads[0].details["vehicle"] == "Nissan Altima"
        assert s.scalar(select(UpgradeWish).where(UpgradeWish.id > BASELINE["upgrade_wishes"])) is None


def test_trade_in_someone_elses_vin_is_not_shown(chat, demo_app):
    with demo_app.transaction() as s:
        [patrol] = _vehicles(s, FATIMA)
        ahmed_ids = [v.id for v in _vehicles(s, AHMED)]
    c = chat(AHMED)
    c.say(f"trade-in offer for VIN {patrol.vin}")
    assert c.last.text == text("leads_ask_vehicle", "en")
    assert [o.id for o in c.last.options] == [f"vehicle:{i}" for i in ahmed_ids] + ["vehicle:other"]
    assert patrol.plate not in _all_text(c) and "Patrol" not in _all_text(c)


# --- finance -------------------------------------------------------------------------------------------------


def test_finance_instalment_change_english(chat, demo_app):
    with demo_app.transaction() as s:
        lexus = next(v for v in _vehicles(s, AHMED) if v.make == "Lexus")
    c = chat(AHMED)
    said = "can I move my instalment date to the 5th?"
    c.say(said)
    assert c.last.text == text("leads_ask_vehicle", "en")
    c.say("the blue one")  # wrong input
    assert c.last.text == text("leads_vehicle_again", "en")
    c.say("2")
    assert c.last.text == text("finance_done", "en", kind=text("finance_kind_instalment_change", "en"),
                               vehicle=text("finance_for_vehicle", "en", vehicle=f"Lexus ES 2022 ({lexus.plate})"))
    with demo_app.transaction() as s:
        [lead] = _leads(s, "instalment_change")
        assert lead.customer_id == _customer(s, AHMED).id and lead.vehicle_id == lexus.id
        assert lead.details["request"] == said
        assert any(a.payload["lead_id"] == lead.id and a.recipient == "finance" for a in _alerts(s, "lead_new"))


def test_finance_insurance_arabic(chat, demo_app):
    with demo_app.transaction() as s:
        [patrol] = _vehicles(s, FATIMA)
    c = chat(FATIMA)
    c.say("أبغى أجدد تأمين السيارة")
    for_patrol = text("finance_for_vehicle", "ar", vehicle=f"Nissan Patrol 2022 ({patrol.plate})")
    assert c.last.text == text("finance_done", "ar", kind=text("finance_kind_insurance", "ar"), vehicle=for_patrol)
    with demo_app.transaction() as s:
        [lead] = _leads(s, "insurance")
        assert lead.vehicle_id == patrol.id and lead.details["request"] == "أبغى أجدد تأمين السيارة"


def test_finance_unknown_sender_generic_question(chat, demo_app):
    c = chat(STRANGER)
    c.say("I have a question about car finance")
    assert c.last.text == text("finance_ask_kind", "en")
    c.say("xx")
    assert c.last.text == text("leads_choose_again", "en")
    c.say("3")
    assert c.last.text == text("finance_ask_details", "en")
    c.say("?")
    assert c.last.text == text("finance_details_again", "en")
    c.say("a quote for comprehensive cover on a Prado 2019")
    assert c.last.text == text("finance_done", "en", kind=text("finance_kind_insurance", "en"), vehicle="")
    with demo_app.transaction() as s:
        [lead] = _leads(s, "insurance")
        assert lead.customer_id is None and lead.channel_identity_id == _identity(s, STRANGER).id
        assert lead.vehicle_id is None and "Prado 2019" in lead.details["request"]


def test_finance_unknown_sender_arabic_sees_no_vehicle(chat, demo_app):
    with demo_app.transaction() as s:
        others = _others_data(s, FATIMA)
    c = chat(STRANGER)
    c.say("أبي أأجل القسط هذا الشهر")
    assert c.last.text == text("finance_done", "ar", kind=text("finance_kind_instalment_change", "ar"), vehicle="")
    assert not any(d in _all_text(c) for d in others)
    with demo_app.transaction() as s:
        [lead] = _leads(s, "instalment_change")
        assert lead.customer_id is None and lead.vehicle_id is None


# --- parts_order ---------------------------------------------------------------------------------------------


def test_parts_order_english_asks_part_vehicle_and_oem(chat, demo_app):
    with demo_app.transaction() as s:
        cruiser = next(v for v in _vehicles(s, AHMED) if v.model == "Land Cruiser")
    c = chat(AHMED)
    c.say("I want to order spare parts")
    assert c.last.text == text("parts_ask_part", "en")
    c.say("parts")  # names no part
    assert c.last.text == text("parts_part_again", "en")
    c.say("left side mirror")
    assert c.last.text == text("leads_ask_vehicle", "en")
    c.say("1")
    assert c.last.text == text("parts_ask_preference", "en")
    assert [o.id for o in c.last.options] == ["preference:oem", "preference:aftermarket", "preference:either"]
    c.say("whatever you think")
    assert c.last.text == text("parts_preference_again", "en")
    c.say("Original (OEM)")
    assert c.last.text == text("parts_done", "en", part="left side mirror",
                               vehicle=f"Toyota Land Cruiser 2020 ({cruiser.plate})",
                               preference=text("parts_pref_in_text_oem", "en"))
    with demo_app.transaction() as s:
        [lead] = _leads(s, "parts_request")
        assert lead.vehicle_id == cruiser.id
        assert (lead.details["part"], lead.details["preference"]) == ("left side mirror", "oem")
        assert any(a.payload["lead_id"] == lead.id and a.recipient == "parts-desk" for a in _alerts(s, "lead_new"))


def test_parts_order_arabic_own_car(chat, demo_app):
    with demo_app.transaction() as s:
        [patrol] = _vehicles(s, FATIMA)
    c = chat(FATIMA)
    c.say("أبغى فلتر هواء للباترول")
    assert c.last.text == text("parts_ask_preference", "ar")
    c.say("مدري")
    assert c.last.text == text("parts_preference_again", "ar")
    c.say("تجارية")
    assert c.last.text == text("parts_done", "ar", part="أبغى فلتر هواء للباترول",
                               vehicle=f"Nissan Patrol 2022 ({patrol.plate})",
                               preference=text("parts_pref_in_text_aftermarket", "ar"))
    with demo_app.transaction() as s:
        [lead] = _leads(s, "parts_request")
        assert lead.vehicle_id == patrol.id and lead.details["preference"] == "aftermarket"


def test_parts_order_unknown_sender_arabic(chat, demo_app):
    with demo_app.transaction() as s:
        others = _others_data(s, FATIMA)
    c = chat(STRANGER)
    c.say("أبغى قطع غيار أصلية للباترول")
    assert c.last.text == text("parts_ask_part", "ar")
    c.say("؟")
    assert c.last.text == text("parts_part_again", "ar")
    c.say("مراية جانبية يسار")
    assert c.last.text == text("parts_done", "ar", part="مراية جانبية يسار", vehicle="Nissan Patrol",
                               preference=text("parts_pref_in_text_oem", "ar"))
    assert not any(d in _all_text(c) for d in others)
    with demo_app.transaction() as s:
        [lead] = _leads(s, "parts_request")
        assert lead.customer_id is None and lead.vehicle_id is None
        assert lead.channel_identity_id == _identity(s, STRANGER).id


def test_parts_order_unknown_sender_describes_the_car(chat, demo_app):
    c = chat(STRANGER)
    c.say("i need a replacement door trim")
    assert c.last.text == text("leads_ask_vehicle_text", "en")
    assert c.last.options == []
    c.say("ok")
    assert c.last.text == text("leads_vehicle_text_again", "en")
    c.say("Toyota Camry 2020")
    assert c.last.text == text("parts_ask_preference", "en")
    c.say("3")
    with demo_app.transaction() as s:
        [lead] = _leads(s, "parts_request")
        assert lead.details["vehicle"] == "Toyota Camry 2020" and lead.details["preference"] == "either"


# --- roadside_assistance ---------------------------------------------------------------------------------


def test_roadside_english_first_reply_alert_and_location(chat, demo_app):
    with demo_app.transaction() as s:
        home = s.get(Branch, _vehicles(s, AHMED)[0].sold_by_branch_id)
        name, phone = home.name_en, home.emergency_phone
    c = chat(AHMED)
    replies = c.say("my car broke down on the highway, I need help")
    first = replies[0].text
    assert first == text("roadside_first", "en", branch=name, phone=phone)
    assert phone in first.splitlines()[0] and "999" in first and "hazard" in first
    with demo_app.transaction() as s:
        [alert] = _alerts(s, "roadside_assistance")
        assert alert.channel == "staff" and alert.payload["urgent"] is True
        assert alert.customer_id == _customer(s, AHMED).id and alert.payload["branch"] == home.code

    c.say("yes I am safe")  # not a location: asked again where
    assert c.last.text == text("roadside_safe_where", "en")
    c.say("Al Barsha, near Mall of the Emirates")
    assert c.last.text == text("roadside_done", "en", branch=name, location="Al Barsha, near Mall of the Emirates",
                               phone=phone)
    with demo_app.transaction() as s:
        [located] = _alerts(s, "roadside_location")
        assert located.payload["location"] == "Al Barsha, near Mall of the Emirates"
        assert located.idempotency_key == f"{alert.idempotency_key}:location"


def test_roadside_named_place_gives_that_branch(chat, demo_app):
    with demo_app.transaction() as s:
        abu = _branch(s, "abu-dhabi")
        name, phone = abu.name_en, abu.emergency_phone
    c = chat(AHMED)  # sold in Dubai, stranded near Mussafah
    c.say("my car broke down near Mussafah, please help")
    assert c.last.text == text("roadside_first", "en", branch=name, phone=phone)
    c.say("no, my friend is hurt")
    assert c.last.text == text("roadside_danger", "en")
    with demo_app.transaction() as s:
        assert len(_alerts(s, "roadside_danger")) == 1


def test_roadside_arabic_unknown_sender_shared_location(chat, demo_app):
    with demo_app.transaction() as s:
        branches = list(s.scalars(select(Branch).order_by(Branch.id)))
        abu = _branch(s, "abu-dhabi")
        abu_name, abu_phone = abu.name_ar, abu.emergency_phone
        lines = "\n".join(text("roadside_line", "ar", city=b.city_ar, phone=b.emergency_phone) for b in branches)
    c = chat(STRANGER)
    c.say("السيارة تعطلت في الطريق وما تشتغل، ساعدوني")
    assert c.last.text == text("roadside_first_all", "ar", lines=lines)
    c.say("", media=(Media("https://files.example/photo.jpg", "image/jpeg"),))  # a photo, no location
    assert c.last.text == text("roadside_location_again", "ar")
    c.say("", media=(Media("geo:24.35,54.50", "application/geo+uri"),))
    pin = "https://maps.google.com/?q=24.350000,54.500000"
    assert c.last.text == text("roadside_done", "ar", branch=abu_name, location=pin, phone=abu_phone)
    with demo_app.transaction() as s:
        [alert] = _alerts(s, "roadside_assistance")
        assert alert.customer_id is None and alert.payload["channel_identity_id"] == _identity(s, STRANGER).id
        [located] = _alerts(s, "roadside_location")
        assert located.payload["coordinates"] == [24.35, 54.5] and located.payload["branch"] == "abu-dhabi"


def test_roadside_interrupts_an_open_free_text_question(chat, demo_app):
    c = chat(FATIMA)
    c.say("I want to order spare parts")
    assert c.last.text == text("parts_ask_part", "en")
    c.say("my car broke down on Sheikh Zayed Road, I need help")
    assert "999" in c.last.text
    with demo_app.transaction() as s:
        assert len(_alerts(s, "roadside_assistance")) == 1 and not _leads(s)


# --- dealership_info -------------------------------------------------------------------------------------


def test_dealership_info_all_branches_for_unknown_sender(chat, demo_app):
    with demo_app.transaction() as s:
        branches = list(s.scalars(select(Branch).order_by(Branch.id)))
        expected = [(b.phone, b.address_en, f"https://maps.google.com/?q={b.latitude:f},{b.longitude:f}")
                    for b in branches]
    c = chat(STRANGER)
    replies = c.say("where are you located?")
    assert replies[0].text == text("info_intro_all", "en")
    assert len(replies) == 1 + len(branches)
    for reply, (phone, address, url) in zip(replies[1:], expected):
        assert phone in reply.text and address in reply.text and url in reply.text
        assert [(a.kind, a.url) for a in reply.attachments] == [("location", url)]
        hours = reply.text.split("\n")[5:]
        assert hours[0].startswith("Today (Thursday)") and hours[1].startswith("Friday")
        assert len(hours) == 7
    dubai = replies[1].text
    assert "Today (Thursday): 08:00–22:00 (open now, until 22:00)" in dubai
    assert "Friday: 08:00–12:00, 14:30–21:00" in dubai  # split shift


def test_dealership_info_named_branch_english(chat, demo_app):
    with demo_app.transaction() as s:
        sharjah, dubai = _branch(s, "sharjah"), _branch(s, "dubai")
        s.execute(delete(BranchHours).where(BranchHours.branch_id == sharjah.id, BranchHours.weekday == 6))
        sharjah_phone, dubai_phone = sharjah.phone, dubai.phone
    c = chat(AHMED)
    replies = c.say("what are the opening hours of the Sharjah branch?")
    assert len(replies) == 1
    assert sharjah_phone in replies[0].text and dubai_phone not in replies[0].text
    assert "Sunday: closed" in replies[0].text  # a closed day


def test_dealership_info_named_branch_arabic(chat, demo_app):
    with demo_app.transaction() as s:
        abu = _branch(s, "abu-dhabi")
        name, address = abu.name_ar, abu.address_ar
    c = chat(FATIMA)
    [reply] = c.say("متى تفتحون في فرع أبوظبي؟")
    assert reply.text.startswith(name) and address in reply.text
    assert "اليوم (الخميس): 07:30–21:00 (مفتوح الآن حتى 21:00)" in reply.text
    assert "الجمعة: 08:00–12:00، 14:30–20:00" in reply.text


def test_dealership_info_uses_dubai_time_for_today(chat, demo_app):
    demo_app.clock.advance(timedelta(hours=15))  # Friday 01:00 in Dubai (Thursday 21:00 UTC)
    c = chat(STRANGER)
    replies = c.say("where are you located?")
    assert "Today (Friday): 08:00–12:00, 14:30–21:00 (closed now, opens today at 08:00)" in replies[1].text
    demo_app.clock.advance(timedelta(hours=11, minutes=30))  # Friday 12:30: the prayer break
    replies = c.say("where are you located?")
    assert "(closed now, opens today at 14:30)" in replies[1].text
    assert "Today (Friday): 08:00–12:00 (closed now, opens tomorrow at 08:00)" in replies[3].text


def test_dealership_info_unknown_place_lists_every_branch_arabic(chat, demo_app):
    c = chat(STRANGER)
    replies = c.say("وين موقعكم؟")
    assert replies[0].text == text("info_intro_all", "ar")
    assert len(replies) == 4
    assert all(re.search(r"اليوم \(الخميس\)", r.text) for r in replies[1:])
