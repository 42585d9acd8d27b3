"""The demo dealership: enough realistic, consistent data for every feature, the same on every run."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.demo import DemoAlreadySeeded, seed_demo
from db.models import (
    Appointment,
    Base,
    Bay,
    Branch,
    BranchHours,
    Complaint,
    Customer,
    InspectionItem,
    InspectionReport,
    MaintenancePlan,
    MileageReading,
    OutboxMessage,
    PackageSubscription,
    Recall,
    RecallCompletion,
    ServicePackage,
    ServiceRecord,
    ServiceType,
    StaffUser,
    StockVehicle,
    Vehicle,
    VehicleDocument,
    Warranty,
    WarrantyClaim,
    WarrantyTier,
)
from db.validation import has_arabic_script
from dealerbot.clock import FixedClock

DUBAI = ZoneInfo("Asia/Dubai")
DEMO_PHONE = "+971501234567"
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
UAE_MOBILE = re.compile(r"^\+9715[024568]\d{7}$")
LATIN_LETTERS = re.compile(r"[A-Za-z]")
VIN_VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ",
                                                          (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9,
                                                           2, 3, 4, 5, 6, 7, 8, 9)))}
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


@pytest.fixture
def seeded(session: Session, clock: FixedClock) -> dict[str, int]:
    return seed_demo(session, clock.now())


def today(clock: FixedClock) -> date:
    return clock.now().astimezone(DUBAI).date()


def all_of(session: Session, model: type[Any]) -> list[Any]:
    return list(session.scalars(select(model).order_by(model.id)))


def row_counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def open_recalls(session: Session, vehicle: Vehicle) -> list[Recall]:
    done = set(session.scalars(select(RecallCompletion.recall_id).where(RecallCompletion.vehicle_id == vehicle.id)))
    return [
        recall for recall in all_of(session, Recall)
        if recall.active and recall.id not in done and recall.make == vehicle.make
        and recall.model in (None, vehicle.model) and recall.year_from <= vehicle.year <= recall.year_to
    ]


def is_valid_phone(number: str) -> bool:
    parsed = phonenumbers.parse(number, None)
    return phonenumbers.is_valid_number(parsed) and phonenumbers.format_number(
        parsed, phonenumbers.PhoneNumberFormat.E164
    ) == number


def snapshot(session: Session) -> dict[str, list[Any]]:
    """What a second seed must reproduce exactly (ids aside: PostgreSQL sequences do not roll back)."""
    return {
        "customers": [(c.phone, c.name, c.email, c.consent_marketing) for c in all_of(session, Customer)],
        "vehicles": [(v.vin, v.plate, v.year, v.purchase_date, v.owner.phone) for v in all_of(session, Vehicle)],
        "warranties": [(w.contract_number, w.end_date, w.mileage_limit_km) for w in all_of(session, Warranty)],
        "services": [(r.vehicle.vin, r.service_date, r.work, r.mileage_km, r.cost_aed)
                     for r in all_of(session, ServiceRecord)],
        "stock": [(s.vin, s.arrived_on) for s in all_of(session, StockVehicle)],
    }


# --- counts and refusal -------------------------------------------------------------------------------


def test_seed_meets_the_minimum_counts_and_reports_what_it_wrote(session: Session, seeded: dict[str, int]) -> None:
    assert seeded["branches"] == 3
    assert seeded["customers"] >= 56
    assert seeded["vehicles"] >= 70
    assert seeded["warranty_tiers"] == 3
    assert seeded["recalls"] == 2
    assert seeded["service_types"] >= 10
    assert 6 <= seeded["stock_vehicles"] <= 10
    assert 12 <= seeded["package_subscriptions"] <= 18
    actual = row_counts(session)
    assert seeded == {table: count for table, count in actual.items() if count}


def test_seed_leaves_staff_appointments_complaints_claims_and_outbox_to_their_features(
    session: Session, seeded: dict[str, int]
) -> None:
    for model in (StaffUser, Appointment, Complaint, WarrantyClaim, OutboxMessage):
        assert session.scalar(select(func.count()).select_from(model)) == 0, model.__tablename__


def test_seeding_twice_is_refused_and_adds_nothing(session: Session, clock: FixedClock, seeded: dict[str, int]) -> None:
    before = row_counts(session)
    with pytest.raises(DemoAlreadySeeded):
        seed_demo(session, clock.now())
    session.flush()
    assert row_counts(session) == before


def test_a_database_with_only_a_branch_is_refused_untouched(session: Session, clock: FixedClock) -> None:
    session.add(Branch(code="x", name_en="X", name_ar="س", city_en="X", city_ar="س", address_en="X", address_ar="س",
                       phone="+97143216540", emergency_phone="+97180038624", latitude=25, longitude=55))
    session.flush()
    before = row_counts(session)
    with pytest.raises(DemoAlreadySeeded):
        seed_demo(session, clock.now())
    session.flush()
    assert row_counts(session) == before


def test_a_naive_now_is_refused(session: Session) -> None:
    with pytest.raises(ValueError):
        seed_demo(session, datetime(2026, 11, 26, 10, 0))
    assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_seeding_is_deterministic(session: Session, clock: FixedClock) -> None:
    first_run = session.begin_nested()
    first_counts = seed_demo(session, clock.now())
    first = snapshot(session)
    first_run.rollback()
    assert session.scalar(select(func.count()).select_from(Customer)) == 0

    assert seed_demo(session, clock.now()) == first_counts
    assert snapshot(session) == first


def test_every_date_follows_now_not_the_wall_clock(session: Session) -> None:
    later = datetime(2031, 3, 5, 20, 30, tzinfo=UTC)  # already 6 March in Dubai
    seed_demo(session, later)
    local_today = date(2031, 3, 6)
    for vehicle in all_of(session, Vehicle):
        assert local_today - timedelta(days=4 * 366) <= vehicle.purchase_date < local_today
    assert max(r.service_date for r in all_of(session, ServiceRecord)) < local_today
    assert max(r.recorded_at for r in all_of(session, MileageReading)) < later
    assert min(w.end_date for w in all_of(session, Warranty)) > date(2027, 1, 1)


# --- people -------------------------------------------------------------------------------------------


def test_customer_phones_are_valid_unique_uae_mobiles(session: Session, seeded: dict[str, int]) -> None:
    phones = [c.phone for c in all_of(session, Customer)]
    assert len(phones) == len(set(phones))
    for phone in phones:
        assert UAE_MOBILE.match(phone), phone
        assert is_valid_phone(phone), phone
        assert phonenumbers.number_type(phonenumbers.parse(phone)) == phonenumbers.PhoneNumberType.MOBILE


def test_customers_mix_arabic_and_latin_names_with_fitting_languages(session: Session, seeded: dict[str, int]) -> None:
    customers = all_of(session, Customer)
    arabic = [c for c in customers if has_arabic_script(c.name)]
    latin = [c for c in customers if not has_arabic_script(c.name)]
    assert len(arabic) >= 25 and len(latin) >= 25
    assert all(c.preferred_language == "ar" for c in arabic)
    assert all(LATIN_LETTERS.search(c.name) for c in latin)
    assert Counter(c.preferred_language for c in latin)["en"] >= 20
    assert len({c.name for c in customers}) == len(customers)


def test_most_customers_have_email_and_consents_vary(session: Session, seeded: dict[str, int]) -> None:
    customers = all_of(session, Customer)
    emails = [c.email for c in customers if c.email]
    assert len(emails) >= 0.7 * len(customers)
    assert all(re.fullmatch(r"[a-z.]+@example\.(ae|com)", email) for email in emails)
    assert len(set(emails)) == len(emails)
    assert {c.consent_marketing for c in customers} == {True, False}
    assert {c.consent_feedback_surveys for c in customers} == {True, False}
    assert all(c.consent_recall_notices for c in customers)


def test_demo_customers_are_the_ones_the_docs_promise(session: Session, seeded: dict[str, int]) -> None:
    customers = all_of(session, Customer)
    ahmed, fatima = customers[0], customers[1]
    assert (ahmed.phone, ahmed.name, ahmed.preferred_language) == (DEMO_PHONE, "Ahmed Al Mansouri", "en")
    assert len(ahmed.vehicles) == 2
    assert any(open_recalls(session, vehicle) for vehicle in ahmed.vehicles)
    assert (fatima.phone, fatima.name, fatima.preferred_language) == ("+971552345678", "فاطمة الهاشمي", "ar")
    assert len(fatima.vehicles) == 1


def test_vehicles_are_spread_over_owners(session: Session, seeded: dict[str, int]) -> None:
    per_owner = Counter(v.customer_id for v in all_of(session, Vehicle))
    assert None not in per_owner
    assert len(per_owner) == seeded["customers"]
    assert max(per_owner.values()) == 3
    assert sum(1 for n in per_owner.values() if n >= 2) >= 8


# --- vehicles and their history -------------------------------------------------------------------------


def test_vins_are_valid_and_unique_and_plates_look_emirati(session: Session, seeded: dict[str, int]) -> None:
    vehicles = all_of(session, Vehicle)
    vins = [v.vin for v in vehicles] + [s.vin for s in all_of(session, StockVehicle)]
    assert len(vins) == len(set(vins))
    for vin in vins:
        assert VIN.match(vin), vin
        check = sum(VIN_VALUES[ch] * w for ch, w in zip(vin, VIN_WEIGHTS)) % 11
        assert vin[8] == ("X" if check == 10 else str(check)), vin
    plates = [v.plate for v in vehicles]
    assert len(plates) == len(set(plates))
    for plate in plates:
        assert plate and len(plate) <= 20
        assert re.fullmatch(r"(Dubai [A-Z]{1,2}|Abu Dhabi \d{1,2}|Sharjah \d) \d{3,5}", plate), plate


def test_vehicles_are_common_uae_models_bought_in_the_last_four_years(
    session: Session, clock: FixedClock, seeded: dict[str, int]
) -> None:
    vehicles = all_of(session, Vehicle)
    assert {"Toyota", "Nissan", "Lexus"} <= {v.make for v in vehicles}
    assert len({(v.make, v.model) for v in vehicles}) >= 15
    for v in vehicles:
        assert 2015 <= v.year <= 2025
        assert v.purchase_date is not None
        assert today(clock) - timedelta(days=4 * 366) <= v.purchase_date < today(clock)
        assert v.purchase_date.year >= v.year - 1
        assert v.sold_by_branch_id is not None


def test_mileage_readings_and_service_records_agree_and_only_grow(
    session: Session, clock: FixedClock, seeded: dict[str, int]
) -> None:
    vehicles = all_of(session, Vehicle)
    assert any(v.service_records for v in vehicles) and any(not v.service_records for v in vehicles)
    for v in vehicles:
        readings = v.mileage_readings
        assert 1 <= len(readings) <= 4
        assert all(r.source == "seed" for r in readings)
        assert [r.reading_km for r in readings] == sorted(r.reading_km for r in readings)
        assert readings[0].recorded_at.astimezone(DUBAI).date() == v.purchase_date
        assert len(v.service_records) <= 6
        by_day = {r.recorded_at.astimezone(DUBAI).date(): r.reading_km for r in readings}
        previous = readings[0].reading_km
        for record in v.service_records:
            assert v.purchase_date < record.service_date < today(clock)
            assert record.mileage_km is not None and record.mileage_km >= previous
            previous = record.mileage_km
            assert by_day.get(record.service_date, record.mileage_km) == record.mileage_km
            assert record.source == "seed" and record.work and record.parts
            assert record.cost_aed is not None and record.cost_aed > 0
            assert record.branch_id is not None


def test_each_vehicle_has_a_pre_delivery_inspection_with_findings_in_both_languages(
    session: Session, seeded: dict[str, int]
) -> None:
    vehicles = {v.id: v for v in all_of(session, Vehicle)}
    reports = all_of(session, InspectionReport)
    assert sorted(r.vehicle_id for r in reports) == sorted(vehicles)
    results: Counter[str] = Counter()
    for report in reports:
        vehicle = vehicles[report.vehicle_id]
        assert vehicle.purchase_date - timedelta(days=7) <= report.inspected_on <= vehicle.purchase_date
        assert report.mileage_km <= vehicle.mileage_readings[0].reading_km
        assert has_arabic_script(report.summary_ar) and report.summary_en and report.inspector
        assert 8 <= len(report.items) <= 14
        assert any(item.result == "watch" for item in report.items)
        for item in report.items:
            results[item.result] += 1
            assert has_arabic_script(item.item_ar)
            if item.result == "ok":
                assert item.finding_en is None and item.finding_ar is None
            else:
                assert item.finding_en and item.finding_ar and has_arabic_script(item.finding_ar)
    assert results["ok"] > results["watch"] > 0 and results["fixed"] > 0


def test_each_vehicle_has_history_certificate_and_service_book(session: Session, seeded: dict[str, int]) -> None:
    documents: dict[int, dict[str, VehicleDocument]] = defaultdict(dict)
    for document in all_of(session, VehicleDocument):
        documents[document.vehicle_id][document.kind] = document
    for vehicle in all_of(session, Vehicle):
        kinds = documents[vehicle.id]
        assert set(kinds) == {"history_report", "certificate", "service_book"}
        assert kinds["history_report"].url == f"https://docs.example.ae/vehicles/{vehicle.vin}/history.pdf"
        assert all(vehicle.vin in d.url and has_arabic_script(d.title_ar) for d in kinds.values())


# --- warranty, packages, recalls, stock ----------------------------------------------------------------------


def test_three_warranty_tiers_grow_in_cover(session: Session, seeded: dict[str, int]) -> None:
    tiers = sorted(all_of(session, WarrantyTier), key=lambda t: t.rank)
    assert [(t.code, t.rank) for t in tiers] == [("basic", 1), ("extended", 2), ("comprehensive", 3)]
    assert {"engine", "transmission"} <= set(tiers[0].covered_components)
    for lower, higher in zip(tiers, tiers[1:]):
        assert set(lower.covered_components) < set(higher.covered_components)
        assert lower.duration_months < higher.duration_months and lower.price_aed < higher.price_aed
    for tier in tiers:
        assert not set(tier.covered_components) & set(tier.excluded_components)
        assert all(re.fullmatch(r"[a-z_]+", c) for c in tier.covered_components + tier.excluded_components)
        assert has_arabic_script(tier.name_ar) and has_arabic_script(tier.description_ar)


def test_warranties_are_expired_active_and_expiring_soon(
    session: Session, clock: FixedClock, seeded: dict[str, int]
) -> None:
    warranties = all_of(session, Warranty)
    vehicles = all_of(session, Vehicle)
    assert len(warranties) >= 0.75 * len(vehicles)
    days_left = [(w.end_date - today(clock)).days for w in warranties]
    assert sum(d < 0 for d in days_left) >= 5
    assert sum(d >= 0 for d in days_left) >= 5
    assert sum(30 <= d <= 60 for d in days_left) >= 3
    assert {w.tier.code for w in warranties} == {"basic", "extended", "comprehensive"}
    numbers = [w.contract_number for w in warranties]
    assert len(set(numbers)) == len(numbers)
    for w in warranties:
        assert re.fullmatch(r"WR-\d{4}-\d{6}", w.contract_number)
        assert w.start_date == w.vehicle.purchase_date
        assert w.covered_components == w.tier.covered_components
        assert w.excluded_components == w.tier.excluded_components
        assert w.mileage_limit_km > w.vehicle.mileage_readings[0].reading_km


def test_demo_customer_has_a_warranty_that_ends_within_30_to_60_days(
    session: Session, clock: FixedClock, seeded: dict[str, int]
) -> None:
    ahmed = session.scalars(select(Customer).where(Customer.phone == DEMO_PHONE)).one()
    ends = [(w.end_date - today(clock)).days for v in ahmed.vehicles for w in v.warranties]
    assert any(30 <= d <= 60 for d in ends)


def test_packages_and_subscriptions(session: Session, clock: FixedClock, seeded: dict[str, int]) -> None:
    packages = all_of(session, ServicePackage)
    assert 2 <= len(packages) <= 3
    assert all(10 <= p.discount_percent <= 20 and p.priority_booking and p.price_aed > 0 for p in packages)
    subscriptions = all_of(session, PackageSubscription)
    assert any(s.end_date < today(clock) for s in subscriptions)
    assert any(s.start_date <= today(clock) <= s.end_date for s in subscriptions)
    assert all(s.end_date > s.start_date for s in subscriptions)


def test_each_recall_matches_several_cars_and_some_are_remedied(session: Session, seeded: dict[str, int]) -> None:
    vehicles = all_of(session, Vehicle)
    recalls = all_of(session, Recall)
    completions = all_of(session, RecallCompletion)
    assert len({r.campaign_code for r in recalls}) == 2
    for recall in recalls:
        matching = [v for v in vehicles if recall in open_recalls(session, v)]
        assert len(matching) >= 3, recall.campaign_code
        for text in (recall.title_ar, recall.description_ar, recall.remedy_ar):
            assert has_arabic_script(text)
    assert 1 <= len(completions) <= 2
    for completion in completions:
        recall = session.get(Recall, completion.recall_id)
        vehicle = session.get(Vehicle, completion.vehicle_id)
        assert recall is not None and vehicle is not None
        assert recall not in open_recalls(session, vehicle)
        assert recall.make == vehicle.make and recall.year_from <= vehicle.year <= recall.year_to
        assert completion.completed_on >= recall.published_on


def test_stock_is_available_and_priced(session: Session, clock: FixedClock, seeded: dict[str, int]) -> None:
    stock = all_of(session, StockVehicle)
    assert all(s.status == "available" and s.price_aed > 10_000 for s in stock)
    assert all(s.arrived_on <= today(clock) and 2015 <= s.year <= 2026 for s in stock)


# --- branches and catalogue -----------------------------------------------------------------------------


def test_branches_open_evenings_and_weekends(session: Session, seeded: dict[str, int]) -> None:
    branches = all_of(session, Branch)
    assert {b.code for b in branches} == {"dubai", "abu-dhabi", "sharjah"}
    for branch in branches:
        hours: list[BranchHours] = branch.hours
        weekdays = {h.weekday for h in hours}
        assert weekdays == set(range(7)), branch.code
        assert {5, 6} <= weekdays
        assert any(h.closes >= time(21, 0) for h in hours), branch.code
        assert all(h.opens < h.closes for h in hours)
        assert is_valid_phone(branch.phone) and is_valid_phone(branch.emergency_phone)
        assert branch.phone != branch.emergency_phone
        assert 2 <= branch.courtesy_cars <= 5
        assert 22 <= branch.latitude <= 26.5 and 51 <= branch.longitude <= 56.5
        for text in (branch.name_ar, branch.city_ar, branch.address_ar):
            assert has_arabic_script(text)
    friday = [h for b in branches for h in b.hours if h.weekday == 4]
    assert len(friday) > len(branches)  # at least one split shift around Friday prayers
    assert {b.code for b in branches if b.offers_mobile_service} == {"dubai", "abu-dhabi"}


def test_each_branch_has_six_to_ten_bays_with_and_without_lifts(session: Session, seeded: dict[str, int]) -> None:
    for branch in all_of(session, Branch):
        bays: list[Bay] = branch.bays
        assert 6 <= len(bays) <= 10
        assert {b.has_lift for b in bays} == {True, False}
        assert all(re.fullmatch(r"B\d+", b.name) for b in bays)


def test_service_catalogue_is_priced_in_aed_and_flags_fit_the_work(session: Session, seeded: dict[str, int]) -> None:
    services = {s.code: s for s in all_of(session, ServiceType)}
    assert {"oil_change", "minor_service", "major_service", "air_conditioning", "brakes", "tyres", "battery",
            "wheel_alignment", "inspection", "diagnostics", "detailing"} <= set(services)
    for service in services.values():
        assert service.price_aed > 0 and service.duration_minutes > 0
        assert has_arabic_script(service.name_ar)
        if service.express_eligible:
            assert service.duration_minutes <= 60
        if service.mobile_eligible:
            assert not service.needs_lift and service.duration_minutes <= 60
    assert 250 <= services["oil_change"].price_aed <= 400
    assert 1200 <= services["major_service"].price_aed <= 2500
    assert services["battery"].mobile_eligible and not services["major_service"].mobile_eligible


def test_maintenance_plans_have_a_default_and_make_rules(session: Session, seeded: dict[str, int]) -> None:
    plans = {(p.make, p.model): (p.interval_km, p.interval_months) for p in all_of(session, MaintenancePlan)}
    assert plans[("*", "*")] == (10_000, 6)
    assert plans[("Mercedes-Benz", "*")] == (15_000, 12)
    assert ("Nissan", "Patrol") in plans


# --- timestamps ---------------------------------------------------------------------------------------------


def test_timestamps_are_aware_and_come_from_now(session: Session, clock: FixedClock, seeded: dict[str, int]) -> None:
    session.expire_all()  # read back what the database holds
    stamped = (
        [(c.created_at, c.updated_at) for c in all_of(session, Customer)]
        + [(v.created_at, v.updated_at) for v in all_of(session, Vehicle)]
        + [(w.created_at,) for w in all_of(session, Warranty)]
        + [(r.created_at,) for r in all_of(session, ServiceRecord)]
    )
    for stamps in stamped:
        for stamp in stamps:
            assert stamp.tzinfo is not None
            assert stamp == clock.now()
    for reading in all_of(session, MileageReading):
        assert reading.recorded_at.tzinfo is not None and reading.recorded_at <= clock.now()


def test_customer_facing_arabic_fields_are_arabic(session: Session, seeded: dict[str, int]) -> None:
    for model in (Branch, ServiceType, ServicePackage, WarrantyTier, Recall, InspectionItem):
        for row in all_of(session, model):
            for column in model.__table__.columns:
                value = getattr(row, column.key)
                if column.key.endswith("_ar") and value is not None:
                    assert has_arabic_script(value), (model.__tablename__, column.key, value)
