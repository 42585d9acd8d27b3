"""Import of CSV exports from a dealer management system: customers, vehicles, service records; and the
workshop's model figures (tyre pressures, oil, fuel grade) that car-care answers quote.

A file is imported whole or not at all. Every row is checked first; if any row is bad, nothing is
written and every bad row is reported with its line number in the file (the header is line 1). A good
file is written in bulk in the caller's transaction. Re-importing the same file changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.bulk import insert_rows
from db.models import Customer, MileageReading, ModelFigures, ServiceRecord, Vehicle
from db.validation import (
    InvalidValue,
    clean_text,
    normalise_email,
    normalise_language,
    normalise_phone,
    normalise_plate,
    normalise_vin,
    parse_date,
    parse_int,
    parse_money,
)

KINDS = ("customers", "vehicles", "service-records", "model-figures")

COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required columns, optional columns)
    "customers": (("phone", "name"), ("email", "language")),
    "vehicles": (("vin", "make", "model", "year", "owner_phone"), ("plate", "purchase_date", "mileage_km", "colour")),
    "service-records": (("vin", "date", "work"), ("mileage_km", "cost_aed")),
    "model-figures": (("make", "model", "year_from", "year_to", "source"),
                      ("tyre_front_psi", "tyre_rear_psi", "oil_grade", "oil_capacity_l", "fuel_ron")),
}

MAX_MILEAGE_KM = 2_000_000


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    readings_added: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "mileage_readings_added": self.readings_added,
        }


class ImportFailed(Exception):
    def __init__(self, result: ImportResult) -> None:
        self.result = result
        super().__init__(f"{len(result.errors)} bad row(s); nothing was imported")


class Progress(Protocol):
    def __call__(self, stage: str, done: int, total: int | None) -> None: ...


def _no_progress(stage: str, done: int, total: int | None) -> None:
    return None


# --- reading the file -----------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    values: dict[str, str]


def _read_rows(
    path: Path, kind: str, result: ImportResult, progress: Progress
) -> Iterator[_Row]:
    """Yield the data rows with their first line number; header problems go to result.errors."""
    required, optional = COLUMNS[kind]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        result.errors.append(RowError(0, f"cannot read {path}: {exc.strerror or exc}"))
        return
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        result.errors.append(RowError(line, "the file is not UTF-8 text (save the CSV as UTF-8)"))
        return
    total_lines = text.count("\n") + 1
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        result.errors.append(RowError(1, "the file is empty: a header row is needed"))
        return
    except csv.Error as exc:
        result.errors.append(RowError(1, f"unreadable header: {exc}"))
        return
    names = [h.strip().lower() for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        result.errors.append(
            RowError(1, f"missing column(s) {', '.join(missing)}; expected {', '.join(required + optional)}")
        )
        return
    wanted = {name: names.index(name) for name in required + optional if name in names}
    last_line = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(RowError(last_line + 1, f"malformed CSV: {exc}"))
            break
        first_line = last_line + 1
        last_line = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        values = {name: (cells[i] if i < len(cells) else "") for name, i in wanted.items()}
        if (first_line & 0x3FF) == 0:
            progress("checking", first_line, total_lines)
        yield _Row(first_line, values)
    progress("checking", total_lines, total_lines)


def _parse_rows(
    path: Path, kind: str, result: ImportResult, progress: Progress, parse: Callable[[dict[str, str]], Any]
) -> list[tuple[int, Any]]:
    parsed: list[tuple[int, Any]] = []
    for row in _read_rows(path, kind, result, progress):
        result.rows += 1
        try:
            parsed.append((row.line, parse(row.values)))
        except InvalidValue as exc:
            result.errors.append(RowError(row.line, str(exc)))
    return parsed


def _optional(values: dict[str, str], name: str) -> str:
    return values.get(name, "").strip()


# --- customers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CustomerRow:
    phone: str
    name: str
    email: str | None
    language: str


def _parse_customer(values: dict[str, str]) -> _CustomerRow:
    phone = normalise_phone(values["phone"])
    name = clean_text(values["name"], "name", 200)
    assert name is not None
    email = normalise_email(_optional(values, "email"))
    language = normalise_language(_optional(values, "language"), name)
    return _CustomerRow(phone, name, email, language)


def _import_customers(
    session: Session, path: Path, now: datetime, result: ImportResult, progress: Progress
) -> None:
    parsed = _parse_rows(path, "customers", result, progress, _parse_customer)
    by_phone: dict[str, tuple[int, _CustomerRow]] = {}
    for line, row in parsed:
        seen = by_phone.get(row.phone)
        if seen is None:
            by_phone[row.phone] = (line, row)
        elif seen[1] != row:
            result.errors.append(
                RowError(line, f"duplicate phone {_mask(row.phone)} with other details than line {seen[0]}")
            )
    if result.errors:
        return
    existing = {
        phone: (cid, (name, email, language))
        for cid, phone, name, email, language in session.execute(
            select(Customer.id, Customer.phone, Customer.name, Customer.email, Customer.preferred_language)
        )
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for _line, row in by_phone.values():
        current = existing.get(row.phone)
        if current is None:
            inserts.append(
                {
                    "phone": row.phone,
                    "name": row.name,
                    "email": row.email,
                    "preferred_language": row.language,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        elif current[1] != (row.name, row.email, row.language):
            updates.append(
                {
                    "id": current[0],
                    "name": row.name,
                    "email": row.email,
                    "preferred_language": row.language,
                    "updated_at": now,
                }
            )
        else:
            result.unchanged += 1
    progress("writing", 0, len(inserts) + len(updates))
    insert_rows(session.connection(), Customer.__table__, inserts)
    if updates:
        session.execute(update(Customer), updates)
    result.inserted, result.updated = len(inserts), len(updates)
    progress("writing", len(inserts) + len(updates), len(inserts) + len(updates))


# --- vehicles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _VehicleRow:
    vin: str
    plate: str | None
    make: str
    model: str
    year: int
    purchase_date: date | None
    owner_phone: str
    mileage_km: int | None
    colour: str | None = None  # None: not given (a file without the column keeps the recorded colour)


def _vehicle_parser(today: date, known_phones: Container[str]) -> Callable[[dict[str, str]], _VehicleRow]:
    """Row parser; phones already in E.164 that belong to a customer need no parsing (the common case)."""
    max_year = today.year + 1

    def parse(values: dict[str, str]) -> _VehicleRow:
        vin = normalise_vin(values["vin"])
        plate = normalise_plate(_optional(values, "plate"))
        make = clean_text(values["make"], "make", 40)
        model = clean_text(values["model"], "model", 60)
        year = parse_int(values["year"], "year", 1950, max_year)
        raw_date = _optional(values, "purchase_date")
        purchase = parse_date(raw_date) if raw_date else None
        if purchase is not None and purchase > today:
            raise InvalidValue(f"purchase_date {raw_date} is in the future")
        raw_owner = values["owner_phone"].strip()
        owner = raw_owner if raw_owner in known_phones else normalise_phone(raw_owner)
        raw_km = _optional(values, "mileage_km")
        km = parse_int(raw_km, "mileage_km", 0, MAX_MILEAGE_KM) if raw_km else None
        colour = clean_text(_optional(values, "colour"), "colour", 30, required=False)
        assert make is not None and model is not None
        return _VehicleRow(vin, plate, make, model, year, purchase, owner, km, colour)

    return parse


def _import_vehicles(
    session: Session, path: Path, now: datetime, today: date, result: ImportResult, progress: Progress
) -> None:
    customer_ids = {phone: cid for phone, cid in session.execute(select(Customer.phone, Customer.id))}
    parsed = _parse_rows(path, "vehicles", result, progress, _vehicle_parser(today, customer_ids))
    by_vin: dict[str, tuple[int, _VehicleRow]] = {}
    for line, row in parsed:
        seen = by_vin.get(row.vin)
        if seen is None:
            by_vin[row.vin] = (line, row)
        elif seen[1].owner_phone != row.owner_phone:
            result.errors.append(
                RowError(line, f"duplicate VIN {row.vin} with a different owner than line {seen[0]}")
            )
        elif seen[1] != row:
            result.errors.append(RowError(line, f"duplicate VIN {row.vin} with other details than line {seen[0]}"))

    existing = {
        vin: (vid, cid, (plate, make, model, year, purchase), colour)
        for vid, vin, cid, plate, make, model, year, purchase, colour in session.execute(
            select(
                Vehicle.id,
                Vehicle.vin,
                Vehicle.customer_id,
                Vehicle.plate,
                Vehicle.make,
                Vehicle.model,
                Vehicle.year,
                Vehicle.purchase_date,
                Vehicle.colour,
            )
        )
    }
    latest_km = {
        vid: km
        for vid, km in session.execute(
            select(MileageReading.vehicle_id, func.max(MileageReading.reading_km)).group_by(
                MileageReading.vehicle_id
            )
        )
    }
    for line, row in by_vin.values():
        owner_id = customer_ids.get(row.owner_phone)
        if owner_id is None:
            result.errors.append(
                RowError(line, f"owner {_mask(row.owner_phone)} is not a customer; import the customers first")
            )
            continue
        current = existing.get(row.vin)
        if current is None:
            continue
        if current[1] is not None and current[1] != owner_id:
            result.errors.append(RowError(line, f"duplicate VIN {row.vin} with different owner (already registered)"))
            continue
        known = latest_km.get(current[0])
        if row.mileage_km is not None and known is not None and row.mileage_km < known:
            result.errors.append(
                RowError(line, f"mileage_km {row.mileage_km:,} is below the latest reading {known:,} km")
            )
    if result.errors:
        return

    inserts: list[dict[str, Any]] = []
    insert_km: dict[str, int] = {}
    updates: list[dict[str, Any]] = []
    readings: list[dict[str, Any]] = []
    for _line, row in by_vin.values():
        owner_id = customer_ids[row.owner_phone]
        fields = (row.plate, row.make, row.model, row.year, row.purchase_date)
        current = existing.get(row.vin)
        if current is None:
            inserts.append(
                {
                    "vin": row.vin,
                    "plate": row.plate,
                    "make": row.make,
                    "model": row.model,
                    "year": row.year,
                    "purchase_date": row.purchase_date,
                    "colour": row.colour,
                    "customer_id": owner_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if row.mileage_km is not None:
                insert_km[row.vin] = row.mileage_km
            continue
        vehicle_id = current[0]
        colour = row.colour if row.colour is not None else current[3]
        fields_changed = current[2] != fields or current[1] is None or colour != current[3]
        new_reading = row.mileage_km is not None and row.mileage_km != latest_km.get(vehicle_id)
        if fields_changed:
            updates.append(
                {
                    "id": vehicle_id,
                    "plate": row.plate,
                    "make": row.make,
                    "model": row.model,
                    "year": row.year,
                    "purchase_date": row.purchase_date,
                    "colour": colour,
                    "customer_id": owner_id,
                    "updated_at": now,
                }
            )
        if new_reading:
            readings.append(_reading(vehicle_id, row.mileage_km, now))
        if fields_changed or new_reading:
            result.updated += 1
        else:
            result.unchanged += 1
    total = len(inserts) + len(updates)
    progress("writing", 0, total)
    if inserts:
        connection = session.connection()
        insert_rows(connection, Vehicle.__table__, inserts)
        new_ids = {vin: vid for vid, vin in connection.execute(select(Vehicle.id, Vehicle.vin))}
        readings.extend(_reading(new_ids[vin], km, now) for vin, km in insert_km.items())
    progress("writing", len(inserts), total)
    if updates:
        session.execute(update(Vehicle), updates)
    insert_rows(session.connection(), MileageReading.__table__, readings)
    result.inserted = len(inserts)
    result.readings_added = len(readings)
    progress("writing", total, total)


def _reading(vehicle_id: int, km: int, now: datetime) -> dict[str, Any]:
    return {"vehicle_id": vehicle_id, "reading_km": km, "recorded_at": now, "source": "import"}


# --- service records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ServiceRow:
    vin: str
    service_date: date
    mileage_km: int | None
    work: str
    cost_aed: Decimal | None


def _service_parser(today: date) -> Callable[[dict[str, str]], _ServiceRow]:
    def parse(values: dict[str, str]) -> _ServiceRow:
        vin = normalise_vin(values["vin"])
        when = parse_date(values["date"])
        if when > today:
            raise InvalidValue(f"date {values['date'].strip()} is in the future")
        raw_km = _optional(values, "mileage_km")
        km = parse_int(raw_km, "mileage_km", 0, MAX_MILEAGE_KM) if raw_km else None
        work = clean_text(values["work"], "work", 500)
        raw_cost = _optional(values, "cost_aed")
        cost = parse_money(raw_cost) if raw_cost else None
        assert work is not None
        return _ServiceRow(vin, when, km, work, cost)

    return parse


def _import_service_records(
    session: Session, path: Path, now: datetime, today: date, result: ImportResult, progress: Progress
) -> None:
    parsed = _parse_rows(path, "service-records", result, progress, _service_parser(today))
    by_key: dict[tuple[str, date, str], tuple[int, _ServiceRow]] = {}
    for line, row in parsed:
        key = (row.vin, row.service_date, row.work)
        seen = by_key.get(key)
        if seen is None:
            by_key[key] = (line, row)
        elif seen[1] != row:
            result.errors.append(
                RowError(line, f"duplicate record (same VIN, date and work as line {seen[0]}) with other mileage or cost")
            )
    vehicle_ids = {vin: vid for vin, vid in session.execute(select(Vehicle.vin, Vehicle.id))}
    for line, row in by_key.values():
        if row.vin not in vehicle_ids:
            result.errors.append(RowError(line, f"unknown VIN {row.vin}; import the vehicles first"))
    if result.errors:
        return
    wanted_ids = {vehicle_ids[vin] for vin, _d, _w in by_key}
    existing: dict[tuple[int, date, str], tuple[int, int | None, Decimal | None]] = {}
    for rid, vid, when, work, km, cost in session.execute(
        select(
            ServiceRecord.id,
            ServiceRecord.vehicle_id,
            ServiceRecord.service_date,
            ServiceRecord.work,
            ServiceRecord.mileage_km,
            ServiceRecord.cost_aed,
        )
    ):
        if vid in wanted_ids:
            existing[(vid, when, work)] = (rid, km, cost)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for (vin, when, work), (_line, row) in by_key.items():
        vehicle_id = vehicle_ids[vin]
        current = existing.get((vehicle_id, when, work))
        if current is None:
            inserts.append(
                {
                    "vehicle_id": vehicle_id,
                    "service_date": when,
                    "mileage_km": row.mileage_km,
                    "work": work,
                    "parts": [],
                    "cost_aed": row.cost_aed,
                    "source": "import",
                    "created_at": now,
                }
            )
        elif (current[1], current[2]) != (row.mileage_km, row.cost_aed):
            updates.append({"id": current[0], "mileage_km": row.mileage_km, "cost_aed": row.cost_aed})
        else:
            result.unchanged += 1
    progress("writing", 0, len(inserts) + len(updates))
    insert_rows(session.connection(), ServiceRecord.__table__, inserts)
    if updates:
        session.execute(update(ServiceRecord), updates)
    result.inserted, result.updated = len(inserts), len(updates)
    progress("writing", len(inserts) + len(updates), len(inserts) + len(updates))


# --- model figures --------------------------------------------------------------------------------

_OIL_GRADE = re.compile(r"(\d{1,2})W-?(\d{2})")
FUEL_GRADES = (91, 95, 98)  # the RON grades sold in the UAE (E-Plus, Special, Super)


@dataclass(frozen=True)
class _FiguresRow:
    make: str
    model: str
    year_from: int
    year_to: int
    tyre_front_psi: int | None
    tyre_rear_psi: int | None
    oil_grade: str | None
    oil_capacity_l: Decimal | None
    fuel_ron: int | None
    source: str

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.make.casefold(), self.model.casefold(), self.year_from)

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _figures_parser(today: date) -> Callable[[dict[str, str]], _FiguresRow]:
    max_year = today.year + 1

    def psi(values: dict[str, str], name: str) -> int | None:
        raw = _optional(values, name)
        return parse_int(raw, name, 15, 90) if raw else None

    def parse(values: dict[str, str]) -> _FiguresRow:
        make = clean_text(values["make"], "make", 40)
        model = clean_text(values["model"], "model", 60)
        source = clean_text(values["source"], "source", 200)
        year_from = parse_int(values["year_from"], "year_from", 1950, max_year)
        year_to = parse_int(values["year_to"], "year_to", 1950, max_year)
        if year_to < year_from:
            raise InvalidValue(f"year_to {year_to} is before year_from {year_from}")
        raw_oil = _optional(values, "oil_grade").upper().replace(" ", "")
        oil = None
        if raw_oil:
            match = _OIL_GRADE.fullmatch(raw_oil)
            if match is None:
                raise InvalidValue(f"bad oil_grade {raw_oil!r}: write it as on the can, e.g. 0W-20 or 5W-30")
            oil = f"{int(match.group(1))}W-{match.group(2)}"
        raw_litres = _optional(values, "oil_capacity_l").replace(",", ".")
        litres = None
        if raw_litres:
            try:
                litres = Decimal(raw_litres)
            except InvalidOperation as exc:
                raise InvalidValue(f"bad oil_capacity_l {raw_litres!r}: not a number of litres") from exc
            if not litres.is_finite() or not Decimal("0.5") <= litres < Decimal("30"):
                raise InvalidValue(f"bad oil_capacity_l {raw_litres!r}: litres between 0.5 and 30")
            litres = litres.quantize(Decimal("0.1"))
        raw_ron = _optional(values, "fuel_ron")
        ron = parse_int(raw_ron, "fuel_ron", 0, 200) if raw_ron else None
        if ron is not None and ron not in FUEL_GRADES:
            raise InvalidValue(f"bad fuel_ron {ron}: one of {', '.join(map(str, FUEL_GRADES))}")
        assert make is not None and model is not None and source is not None
        return _FiguresRow(make, model, year_from, year_to, psi(values, "tyre_front_psi"),
                           psi(values, "tyre_rear_psi"), oil, litres, ron, source)

    return parse


def _import_model_figures(
    session: Session, path: Path, today: date, result: ImportResult, progress: Progress
) -> None:
    """One row per model and years; a row for the same make, model and first year replaces the recorded
    one. Two rows of a file whose years overlap for one model are refused (which figure would apply?)."""
    parsed = _parse_rows(path, "model-figures", result, progress, _figures_parser(today))
    kept: list[tuple[int, _FiguresRow]] = []
    for line, row in parsed:
        for seen_line, seen in kept:
            if (seen.make.casefold(), seen.model.casefold()) == row.key[:2] and \
                    seen.year_from <= row.year_to and row.year_from <= seen.year_to:
                result.errors.append(RowError(line, f"{row.make} {row.model} {row.year_from}-{row.year_to} "
                                                    f"overlaps the years of line {seen_line}"))
                break
        else:
            kept.append((line, row))
    if result.errors:
        return
    existing = {(f.make.casefold(), f.model.casefold(), f.year_from): f for f in session.scalars(select(ModelFigures))}
    for _line, row in kept:
        current = existing.get(row.key)
        if current is None:
            session.add(ModelFigures(**row.values(), updated_on=today))
            result.inserted += 1
            continue
        changed = {name: value for name, value in row.values().items() if getattr(current, name) != value}
        if changed:
            for name, value in changed.items():
                setattr(current, name, value)
            current.updated_on = today
            result.updated += 1
        else:
            result.unchanged += 1
    session.flush()
    progress("writing", len(kept), len(kept))


# --- entry point ----------------------------------------------------------------------------------


def _mask(phone: str) -> str:
    return phone[:4] + "*" * max(0, len(phone) - 7) + phone[-3:]


def import_file(
    session: Session,
    kind: str,
    path: Path,
    now: datetime,
    today: date,
    progress: Progress = _no_progress,
) -> ImportResult:
    """Check and import one CSV file in the caller's transaction; raise ImportFailed if any row is bad.

    On ImportFailed the caller must roll back; nothing has been flushed before all rows were checked.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}; use one of {', '.join(KINDS)}")
    result = ImportResult(kind)
    if kind == "customers":
        _import_customers(session, path, now, result, progress)
    elif kind == "vehicles":
        _import_vehicles(session, path, now, today, result, progress)
    elif kind == "model-figures":
        _import_model_figures(session, path, today, result, progress)
    else:
        _import_service_records(session, path, now, today, result, progress)
    if result.errors:
        result.errors.sort(key=lambda e: e.line)
        raise ImportFailed(result)
    return result
