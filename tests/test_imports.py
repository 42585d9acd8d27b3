"""CSV import of the dealer management system's exports: all or nothing, every bad row reported."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.imports import ImportFailed, import_file
from db.models import Customer, MileageReading, ModelFigures, ServiceRecord, Vehicle
from dealerbot.clock import FixedClock

TODAY = date(2026, 11, 26)

CUSTOMERS = """\
Phone,Name,Email,Language,Branch
050 123 4567,Ahmed Al Mansouri,ahmed@example.ae,en,Dubai
+971552345678,فاطمة الهاشمي,,,Sharjah
00971 56 765 4321,Priya Nair,PRIYA@Example.com,English,Dubai
"""

VEHICLES = """\
vin,plate,make,model,year,purchase_date,owner_phone,mileage_km
JTMHV05J604123456,Dubai A 12345,Toyota,Land Cruiser,2020,2023-03-14,+971501234567,"48,200"
jn8az2ne5l9123457,abu dhabi 1 23456,Nissan,Patrol,2021,14/07/2024,0552345678,31000
KMHD841CBLU123458,,Hyundai,Elantra,2019,,+971567654321,
"""

SERVICE_RECORDS = """\
VIN,Date,Mileage_km,Work,Cost_AED
JTMHV05J604123456,2024-03-10,40000,Minor service: oil and filter,AED 650.00
JTMHV05J604123456,15/09/2024,45100,AC regas,380
JN8AZ2NE5L9123457,2025-01-20,,Brake pads front,"1,150.50"
"""


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def run(session: Session, kind: str, path: Path, clock: FixedClock):
    with session.begin_nested():
        return import_file(session, kind, path, clock.now(), TODAY)


def failure(session: Session, kind: str, path: Path, clock: FixedClock) -> list[str]:
    with pytest.raises(ImportFailed) as caught:
        run(session, kind, path, clock)
    return [str(e) for e in caught.value.result.errors]


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def import_all(session: Session, tmp_path: Path, clock: FixedClock) -> None:
    run(session, "customers", write(tmp_path, "c.csv", CUSTOMERS), clock)
    run(session, "vehicles", write(tmp_path, "v.csv", VEHICLES), clock)
    run(session, "service-records", write(tmp_path, "s.csv", SERVICE_RECORDS), clock)


def test_customers_are_imported_with_phones_in_e164_and_language(session, tmp_path, clock):
    result = run(session, "customers", write(tmp_path, "c.csv", CUSTOMERS), clock)
    assert (result.rows, result.inserted, result.updated, result.unchanged) == (3, 3, 0, 0)
    rows = {c.phone: c for c in session.scalars(select(Customer))}
    assert set(rows) == {"+971501234567", "+971552345678", "+971567654321"}
    assert rows["+971552345678"].preferred_language == "ar"  # guessed from the Arabic-script name
    assert rows["+971567654321"].preferred_language == "en"
    assert rows["+971567654321"].email == "PRIYA@example.com"
    assert rows["+971501234567"].created_at == clock.now()
    # Bulk paths (COPY on PostgreSQL) still apply the columns' defaults.
    assert rows["+971501234567"].consent_service_reminders is True
    assert rows["+971501234567"].consent_marketing is False


def test_vehicles_and_service_records_are_linked_and_parsed(session, tmp_path, clock):
    import_all(session, tmp_path, clock)
    cruiser = session.scalar(select(Vehicle).where(Vehicle.vin == "JTMHV05J604123456"))
    patrol = session.scalar(select(Vehicle).where(Vehicle.vin == "JN8AZ2NE5L9123457"))
    assert cruiser.owner.phone == "+971501234567"
    assert patrol.plate == "ABU DHABI 1 23456"
    assert patrol.purchase_date == date(2024, 7, 14)  # DD/MM/YYYY
    assert [r.reading_km for r in cruiser.mileage_readings] == [48200]
    records = {(r.service_date, r.cost_aed) for r in cruiser.service_records}
    assert records == {(date(2024, 3, 10), Decimal("650.00")), (date(2024, 9, 15), Decimal("380.00"))}
    assert patrol.service_records[0].mileage_km is None
    assert patrol.service_records[0].cost_aed == Decimal("1150.50")


def test_reimporting_the_same_files_changes_nothing(session, tmp_path, clock):
    import_all(session, tmp_path, clock)
    before = [count(session, m) for m in (Customer, Vehicle, MileageReading, ServiceRecord)]
    clock.advance(clock.now() - clock.now().replace(day=1))
    for kind, name, content in (
        ("customers", "c.csv", CUSTOMERS),
        ("vehicles", "v.csv", VEHICLES),
        ("service-records", "s.csv", SERVICE_RECORDS),
    ):
        result = run(session, kind, write(tmp_path, name, content), clock)
        assert (result.inserted, result.updated, result.unchanged) == (0, 0, 3), kind
    after = [count(session, m) for m in (Customer, Vehicle, MileageReading, ServiceRecord)]
    assert before == after


def test_a_changed_row_updates_and_a_higher_mileage_adds_a_reading(session, tmp_path, clock):
    import_all(session, tmp_path, clock)
    changed = VEHICLES.replace("Dubai A 12345", "Dubai B 999").replace('"48,200"', "50100")
    result = run(session, "vehicles", write(tmp_path, "v2.csv", changed), clock)
    assert (result.inserted, result.updated, result.unchanged, result.readings_added) == (0, 1, 2, 1)
    cruiser = session.scalar(select(Vehicle).where(Vehicle.vin == "JTMHV05J604123456"))
    session.refresh(cruiser)
    assert cruiser.plate == "DUBAI B 999"
    assert sorted(r.reading_km for r in cruiser.mileage_readings) == [48200, 50100]


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(session, tmp_path, clock):
    bad = (
        "phone,name,email,language\n"
        "+971501234567,Good Person,,\n"  # line 2: fine, but must not be written
        "12345,Short Number,,\n"  # line 3
        "+971502222222,,,\n"  # line 4: no name
        '+971503333333,"Multi\nLine Name",,\n'  # lines 5-6: a quoted newline is fine
        "+971504444444,Bad Mail,not-an-email,\n"  # line 7
        "+971505555555,Bad Lang,,fr\n"  # line 8
        "+971501234567,Someone Else,,\n"  # line 9: same phone as line 2, other name
    )
    errors = failure(session, "customers", write(tmp_path, "bad.csv", bad), clock)
    assert [e.split(":")[0] for e in errors] == ["line 3", "line 4", "line 7", "line 8", "line 9"]
    assert "unparseable phone" in errors[0]
    assert "name is empty" in errors[1]
    assert "bad email" in errors[2]
    assert "bad language" in errors[3]
    assert "duplicate phone" in errors[4] and "line 2" in errors[4]
    assert count(session, Customer) == 0


def test_vehicle_rows_with_bad_vin_date_or_unknown_owner_are_refused(session, tmp_path, clock):
    run(session, "customers", write(tmp_path, "c.csv", CUSTOMERS), clock)
    bad = (
        "vin,plate,make,model,year,purchase_date,owner_phone,mileage_km\n"
        "JTMHV05J60412345O,,Toyota,Camry,2020,2023-01-01,+971501234567,\n"  # O is not allowed in a VIN
        "JTMHV05J604123457,,Toyota,Camry,2020,2023/01/01,+971501234567,\n"  # unknown date format
        "JTMHV05J604123458,,Toyota,Camry,2020,31/02/2023,+971501234567,\n"  # impossible date
        "JTMHV05J604123459,,Toyota,Camry,2020,,+971509999999,\n"  # owner not a customer
        "JTMHV05J604123450,,Toyota,Camry,1890,,+971501234567,\n"  # year out of range
        "JTMHV05J604123451,,Toyota,Camry,2020,2027-01-01,+971501234567,\n"  # purchase in the future
        "JTMHV05J604123452,,Toyota,Camry,2020,,+971501234567,-5\n"  # negative mileage
    )
    errors = failure(session, "vehicles", write(tmp_path, "v.csv", bad), clock)
    assert len(errors) == 7
    assert errors[0].startswith("line 2: bad VIN")
    assert errors[1].startswith("line 3: unknown date format")
    assert errors[2].startswith("line 4: impossible date")
    assert errors[3].startswith("line 5: owner") and "not a customer" in errors[3]
    assert "+971509999999" not in errors[3]  # phone numbers are masked in messages
    assert errors[4].startswith("line 6: bad year")
    assert errors[5].startswith("line 7: purchase_date")
    assert errors[6].startswith("line 8: bad mileage_km")
    assert count(session, Vehicle) == 0


def test_duplicate_vin_with_a_different_owner_is_refused_in_the_file_and_against_the_database(
    session, tmp_path, clock
):
    import_all(session, tmp_path, clock)
    in_file = (
        "vin,make,model,year,owner_phone\n"
        "KMHD841CBLU999999,Hyundai,Tucson,2022,+971501234567\n"
        "KMHD841CBLU999999,Hyundai,Tucson,2022,+971552345678\n"
    )
    errors = failure(session, "vehicles", write(tmp_path, "dup.csv", in_file), clock)
    assert errors == ["line 3: duplicate VIN KMHD841CBLU999999 with a different owner than line 2"]
    against_db = "vin,make,model,year,owner_phone\nJTMHV05J604123456,Toyota,Land Cruiser,2020,+971552345678\n"
    errors = failure(session, "vehicles", write(tmp_path, "dup2.csv", against_db), clock)
    assert errors == ["line 2: duplicate VIN JTMHV05J604123456 with different owner (already registered)"]
    assert session.scalar(select(Vehicle).where(Vehicle.vin == "KMHD841CBLU999999")) is None


def test_mileage_below_the_latest_reading_is_refused(session, tmp_path, clock):
    import_all(session, tmp_path, clock)
    lower = VEHICLES.replace('"48,200"', "40000")
    errors = failure(session, "vehicles", write(tmp_path, "v.csv", lower), clock)
    assert errors == ["line 2: mileage_km 40,000 is below the latest reading 48,200 km"]


def test_service_records_for_unknown_vehicles_or_with_bad_cost_are_refused(session, tmp_path, clock):
    import_all(session, tmp_path, clock)
    bad = (
        "vin,date,mileage_km,work,cost_aed\n"
        "WDD2050461R123456,2024-01-01,1000,Oil change,300\n"
        "JTMHV05J604123456,2024-01-01,1000,Oil change,three hundred\n"
        "JTMHV05J604123456,2024-01-01,1000,,300\n"
        "JTMHV05J604123456,2030-01-01,1000,Oil change,300\n"
    )
    errors = failure(session, "service-records", write(tmp_path, "s.csv", bad), clock)
    assert [e.split(":")[0] for e in errors] == ["line 2", "line 3", "line 4", "line 5"]
    assert "unknown VIN" in errors[0]
    assert "bad cost_aed" in errors[1]
    assert "work is empty" in errors[2]
    assert "in the future" in errors[3]
    assert count(session, ServiceRecord) == 3


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "line 1: the file is empty"),
        ("phone,email\n+971501234567,a@example.com\n", "line 1: missing column(s) name"),
    ],
)
def test_a_file_without_a_usable_header_is_refused(session, tmp_path, clock, content, expected):
    errors = failure(session, "customers", write(tmp_path, "h.csv", content), clock)
    assert errors[0].startswith(expected)


def test_a_file_that_is_not_utf8_is_refused_with_its_line(session, tmp_path, clock):
    path = tmp_path / "latin1.csv"
    path.write_bytes("phone,name\n+971501234567,Jos\xe9\n".encode("latin-1"))
    errors = failure(session, "customers", path, clock)
    assert errors == ["line 2: the file is not UTF-8 text (save the CSV as UTF-8)"]


def test_excel_byte_order_mark_and_blank_lines_are_accepted(session, tmp_path, clock):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffPHONE,NAME\r\n+971501234567,Ahmed\r\n\r\n+971552345678,Fatima\r\n".encode())
    result = run(session, "customers", path, clock)
    assert result.inserted == 2


def test_a_colour_column_is_imported_and_a_file_without_it_keeps_the_colour(session, tmp_path, clock):
    import_all(session, tmp_path, clock)
    with_colour = VEHICLES.replace("mileage_km\n", "mileage_km,colour\n", 1).replace(
        '"48,200"\n', '"48,200",Pearl White\n')
    result = run(session, "vehicles", write(tmp_path, "v2.csv", with_colour), clock)
    assert (result.updated, result.unchanged) == (1, 2)
    cruiser = session.scalar(select(Vehicle).where(Vehicle.vin == "JTMHV05J604123456"))
    session.refresh(cruiser)
    assert cruiser.colour == "Pearl White"
    result = run(session, "vehicles", write(tmp_path, "v3.csv", VEHICLES), clock)  # no colour column
    assert (result.updated, result.unchanged) == (0, 3)
    session.refresh(cruiser)
    assert cruiser.colour == "Pearl White"


# --- the workshop's model figures -----------------------------------------------------------------------------

FIGURES = """\
make,model,year_from,year_to,tyre_front_psi,tyre_rear_psi,oil_grade,oil_capacity_l,fuel_ron,source
Toyota,Land Cruiser,2016,2021,33,33,,,91,LC200 GCC sheet
Lexus,ES,2019,2025,36,36,0w20,"4,5",91,ES GCC sheet
Nissan,Patrol,2014,2025,35,35,5W-30,6.5,95,Y62 sheet
"""


def test_model_figures_are_imported_with_empty_cells_as_unknown_and_reimporting_changes_nothing(
        session, tmp_path, clock):
    result = run(session, "model-figures", write(tmp_path, "f.csv", FIGURES), clock)
    assert (result.inserted, result.updated) == (3, 0)
    lc, es = (session.scalar(select(ModelFigures).where(ModelFigures.model == m)) for m in ("Land Cruiser", "ES"))
    assert (lc.tyre_front_psi, lc.oil_grade, lc.oil_capacity_l, lc.fuel_ron) == (33, None, None, 91)
    assert (es.oil_grade, es.oil_capacity_l, es.source, es.updated_on) == ("0W-20", Decimal("4.5"), "ES GCC sheet", TODAY)
    again = run(session, "model-figures", write(tmp_path, "f.csv", FIGURES), clock)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    changed = run(session, "model-figures", write(tmp_path, "g.csv", FIGURES.replace("36,36,0w20", "35,35,0W-20")), clock)
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 2)
    session.refresh(es)
    assert es.tyre_front_psi == 35 and count(session, ModelFigures) == 3


def test_bad_model_figures_are_refused_by_line_and_nothing_is_written(session, tmp_path, clock):
    bad = (
        "make,model,year_from,year_to,tyre_front_psi,tyre_rear_psi,oil_grade,oil_capacity_l,fuel_ron,source\n"
        "Toyota,Camry,2018,2024,35,35,0W-20,4.5,91,sheet\n"  # line 2: fine, but must not be written
        "Toyota,Prado,2018,2016,33,33,,,,sheet\n"  # line 3: years the wrong way round
        "Toyota,Hilux,2016,2024,330,33,,,,sheet\n"  # line 4: 330 psi is not a tyre pressure
        "Toyota,Corolla,2019,2024,33,33,thick,,,sheet\n"  # line 5: not an oil grade
        "Toyota,Fortuner,2016,2024,33,33,,,93,sheet\n"  # line 6: no such pump grade
        "Toyota,Camry,2022,2025,36,36,,,,sheet\n"  # line 7: overlaps line 2's years
        "Toyota,Yaris,2019,2024,33,33,,,,\n"  # line 8: where the figures come from is required
    )
    errors = failure(session, "model-figures", write(tmp_path, "bad.csv", bad), clock)
    assert [e.split(":")[0] for e in errors] == [f"line {n}" for n in range(3, 9)]
    assert "before year_from" in errors[0] and "tyre_front_psi" in errors[1] and "oil_grade" in errors[2]
    assert "fuel_ron" in errors[3] and "overlaps" in errors[4] and "line 2" in errors[4] and "source" in errors[5]
    assert count(session, ModelFigures) == 0
