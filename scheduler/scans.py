"""The scans: what is due as of a moment, written to the outbox (scheduler.outbox), never sent from here.

Each scan reads the database in chunks of `CHUNK` subjects (memory stays flat however many vehicles
there are), asks the same rules the chat answers from (actions.maintenance.rules for the next service),
and enqueues one row per message under its idempotency key. Run twice, late, or after a crash, a scan
adds nothing twice: `already_enqueued` counts what an earlier run had added. `found` counts the subjects
due now; each is either enqueued, already enqueued, or skipped because the customer opted out of
that kind (`opted_out`).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, any_, bindparam, case, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from actions.maintenance import rules as maintenance
from db.models import (
    Appointment,
    Customer,
    InspectionReport,
    MaintenancePlan,
    MileageReading,
    OutboxMessage,
    ServiceRecord,
    Vehicle,
    Warranty,
)
from dealerbot.settings import Settings
from scheduler.kinds import KINDS
from scheduler.outbox import Pending, enqueue, key

CHUNK = 1000

# Service reminders: the first notice this many days before the service is due (by date, or by the date
# the usual driving reaches its km); one follow-up this many days after the notice went out, if the
# service is still not booked; nothing for a car more than MAX_OVERDUE_DAYS past due with no notice yet
# (serviced elsewhere, most likely: a first "you are overdue" after half a year is noise).
NOTICE_DAYS = 14
FOLLOW_UP_DAYS = 7
MAX_OVERDUE_DAYS = 180
# Appointment reminders: the day before and two hours before.
DAY_BEFORE = timedelta(hours=24)
TWO_HOURS = timedelta(hours=2)
# Warranty: a notice 30 days before the end, and one in the last week.
WARRANTY_NOTICE_DAYS = 30
WARRANTY_LAST_WEEK_DAYS = 7


@dataclass
class ScanResult:
    found: int = 0
    enqueued: int = 0
    already_enqueued: int = 0
    opted_out: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Due:
    """One subject found due: its message, and whether the customer takes that kind."""

    message: Pending
    consented: bool


def _allowed(customer: Customer, kind: str) -> bool:
    consent = KINDS[kind].consent
    return consent is None or bool(getattr(customer, f"consent_{consent}"))


def _write(session: Session, now: datetime, found: list[Due], result: ScanResult) -> None:
    """Enqueue the consented messages of one chunk and count everything found."""
    result.found += len(found)
    wanted = [d.message for d in found if d.consented]
    result.opted_out += len(found) - len(wanted)
    if not wanted:
        return
    added = enqueue(session, wanted, now)  # ON CONFLICT DO NOTHING: what was there already is not added
    result.enqueued += added
    result.already_enqueued += len(wanted) - added


def one_of(session: Session, column: Any, values: list[Any]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL as `= ANY(one array parameter)`: an IN list of thousands of
    placeholders cost psycopg more to parse than the query took to run. (IN over the elements of one JSON
    parameter was planned as a scan of the outbox per chunk: minutes.)"""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    result: ColumnElement[bool] = column.in_(values)
    return result


def _chunks(session: Session, query: Select[Any], id_column: Any, core: bool = False) -> Iterator[list[Any]]:
    """The rows of `query` in id order, CHUNK at a time (keyset pagination: no offset, no growing cost).
    `core`: a select of columns run on the connection, past the ORM's result machinery."""
    last = 0
    execute = session.connection().execute if core else session.execute
    while True:
        rows = execute(query.where(id_column > last).order_by(id_column).limit(CHUNK)).all()
        if not rows:
            return
        yield rows
        last = getattr(rows[-1][0], "id", rows[-1][0])


# --- service reminders -----------------------------------------------------------------------------------


@contextmanager
def _heap_frozen() -> Iterator[None]:
    """The objects alive before the scan moved out of the cycle collector's sight while it runs (gc.freeze):
    its full passes, triggered by the scan's many short-lived rows, walked the whole application heap each
    time (a tenth of the scan at 100,000 cars). Cycles made during the scan are still collected."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def scan_service_due(session: Session, now: datetime, settings: Settings) -> ScanResult:
    with _heap_frozen():
        return _scan_service_due(session, now, settings)


def _scan_service_due(session: Session, now: datetime, settings: Settings) -> ScanResult:
    result = ScanResult()
    tz = settings.tz
    today = now.astimezone(tz).date()
    plans = [(p.make, p.model, p.interval_km, p.interval_months)
             for p in session.scalars(select(MaintenancePlan).order_by(MaintenancePlan.id))]
    plan_of: dict[tuple[str, str], tuple[int, int]] = {}  # (make, model) → the plan's interval, asked once
    # Columns, not ORM objects (a third of the time at 100,000 cars went to building objects); the related
    # rows of a chunk by its id range (the chunks are id ranges: a BETWEEN, not an IN of 2,000 ids).
    # The cars alone, in id order (a join with customers let SQLite's planner start from customers and
    # sort every chunk: time grew with the square of the fleet); their owners' consent by primary key.
    # The owner's consent as a correlated subquery by primary key: an IN list of 2,000 ids cost PostgreSQL's
    # driver more to parse than the query took to run.
    consent = (select(Customer.consent_service_reminders).where(Customer.id == Vehicle.customer_id)
               .scalar_subquery().label("consent"))
    # When the car was recorded matters only to a car without a purchase date (and read only for those).
    recorded = case((Vehicle.purchase_date.is_(None), Vehicle.created_at), else_=None).label("created_at")
    query = select(Vehicle.id, Vehicle.make, Vehicle.model, Vehicle.purchase_date, recorded,
                   Vehicle.customer_id, consent).where(Vehicle.customer_id.is_not(None))
    conn = session.connection()  # columns, run past the ORM's result machinery (a second at 100,000 cars)
    # On PostgreSQL the previous chunk's messages are written by a helper thread while this chunk's due dates
    # are worked out: the server (another process, the other core) writes while Python computes (100,000
    # cars: ~6 → ~4 s). The connection is used by one thread at a time: the write is started after this
    # chunk's reads and waited for before the next statement here. SQLite writes in this process, mostly
    # holding the interpreter lock: there the same overlap was slower (3.7 → 5 s), so it writes in line.
    overlap = session.get_bind().dialect.name == "postgresql"
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scan-write") if overlap else nullcontext() as writer:
        previous: list[Due] = []
        for rows in _chunks(session, query, Vehicle.id, core=True):
            previous = _service_chunk(session, conn, rows, plans, plan_of, now, today, tz, writer, previous, result)
        _write(session, now, previous, result)
    return result


def _service_chunk(session: Session, conn: Any, rows: list[Any], plans: list[maintenance.Plan],
                   plan_of: dict[tuple[str, str], tuple[int, int]], now: datetime, today: date, tz: Any,
                   writer: ThreadPoolExecutor | None, previous: list[Due], result: ScanResult) -> list[Due]:
    """One chunk of cars: its related rows read; the previous chunk's messages written by the helper while
    the due dates are worked out; then (that write done) the notices looked up. This chunk's messages."""
    low, high = rows[0].id, rows[-1].id
    records: dict[int, list[Any]] = defaultdict(list)
    for record in conn.execute(
        select(ServiceRecord.id, ServiceRecord.vehicle_id, ServiceRecord.service_date, ServiceRecord.mileage_km,
               ServiceRecord.work).where(ServiceRecord.vehicle_id.between(low, high))
    ).all():  # all at once: row by row, psycopg fetched each with a call of its own
        records[record.vehicle_id].append(record)
    points: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for vehicle_id, recorded_at, km in conn.execute(
        select(MileageReading.vehicle_id, MileageReading.recorded_at, MileageReading.reading_km)
        .where(MileageReading.vehicle_id.between(low, high))
    ).all():
        points[vehicle_id].append((recorded_at.astimezone(tz).date(), km))
    inspected = dict(conn.execute(
        select(InspectionReport.vehicle_id, InspectionReport.mileage_km)
        .where(InspectionReport.vehicle_id.between(low, high)).order_by(InspectionReport.id.desc())
    ).all())
    booked = set(conn.scalars(
        select(Appointment.vehicle_id).where(
            Appointment.vehicle_id.between(low, high), Appointment.status == "booked", Appointment.starts_at >= now)
    ))
    writing = None
    if writer is not None:
        writing = writer.submit(_write, session, now, previous, result)  # the reads are done: the connection is free
    else:
        _write(session, now, previous, result)
    found: list[tuple[Any, maintenance.Due, date, str]] = []
    for vehicle in rows:
        if vehicle.id in booked:
            continue  # a service is booked: no reminder
        plan = plan_of.get((vehicle.make, vehicle.model))
        if plan is None:
            plan = plan_of[(vehicle.make, vehicle.model)] = maintenance.best_plan(plans, vehicle.make, vehicle.model)
        due = _due(vehicle, plan, records[vehicle.id], points[vehicle.id], inspected.get(vehicle.id), today, tz)
        falls_due = _due_on(due)
        stage = _service_stage(falls_due, today)
        if stage is not None:
            found.append((vehicle, due, falls_due, stage))
    if writing is not None:
        writing.result()
    return _service_messages(session, now, today, found)


def _due(vehicle: Any, plan: tuple[int, int], records: list[Any], points: list[tuple[date, int]],
         inspected_km: int | None, today: date, tz: Any) -> maintenance.Due:
    """actions.maintenance.service.next_service, from rows loaded for a whole chunk."""
    points = sorted(points + [(r.service_date, r.mileage_km) for r in records if r.mileage_km is not None])
    recorded_on = vehicle.created_at.astimezone(tz).date() if vehicle.created_at is not None else vehicle.purchase_date
    last, base_date, base_km = maintenance.base_of(records, points, vehicle.purchase_date, recorded_on)
    if base_km is None and last is None:
        base_km = inspected_km
    return maintenance.due(vehicle, plan, last, base_date, base_km, points, today)


def _due_on(due: maintenance.Due) -> date:
    """When the service falls due: the date, or earlier the day the usual driving reaches the km, or the
    day of the reading that showed the km already passed."""
    if due.km_left is not None and due.km_left <= 0 and due.latest_on is not None:
        return min(due.due_date, due.latest_on)
    if due.km_reached_on is not None and due.km_reached_on < due.due_date:
        return due.km_reached_on
    return due.due_date


def _service_stage(falls_due: date, today: date) -> str | None:
    if falls_due - today > timedelta(days=NOTICE_DAYS):
        return None
    return "follow_up" if (today - falls_due).days >= FOLLOW_UP_DAYS else "notice"


def _service_messages(session: Session, now: datetime, today: date,
                      found: list[tuple[Any, maintenance.Due, date, str]]) -> list[Due]:
    """The notice, or the follow-up where the notice went out FOLLOW_UP_DAYS ago and nothing is booked.
    Whether a notice exists is looked up only where it matters: a follow-up, or a car long overdue."""
    def notice_key(due: maintenance.Due) -> str:
        return key("service_due", f"vehicle-{due.vehicle.id}", due.due_date, "notice")

    asked = [notice_key(d) for _, d, falls_due, stage in found
             if stage == "follow_up" or (today - falls_due).days > MAX_OVERDUE_DAYS]
    sent = dict(session.connection().execute(
        select(OutboxMessage.idempotency_key, OutboxMessage.sent_at).where(one_of(session, OutboxMessage.idempotency_key, asked))
    ).all()) if asked else {}
    out: list[Due] = []
    for row, due, falls_due, stage in found:
        notice = notice_key(due) if sent else None
        if notice in sent:
            sent_at = sent[notice]
            if stage != "follow_up" or sent_at is None or now - sent_at < timedelta(days=FOLLOW_UP_DAYS):
                stage = "notice"  # counted as already enqueued; the follow-up waits
        else:
            if (today - falls_due).days > MAX_OVERDUE_DAYS:
                continue
            stage = "notice"
        by_km = falls_due < due.due_date  # the km comes first (reached, or reached by the usual driving)
        payload = {"vehicle_id": due.vehicle.id, "due_date": due.due_date.isoformat(), "due_km": due.due_km,
                   "by": "km" if by_km and falls_due <= today else "date",
                   "stage": stage}
        message = Pending(key("service_due", f"vehicle-{due.vehicle.id}", due.due_date, stage), "service_due",
                          row.customer_id, payload, now)
        out.append(Due(message, bool(row.consent)))
    return out


# --- appointment reminders -------------------------------------------------------------------------------


def scan_appointments(session: Session, now: datetime, settings: Settings) -> ScanResult:
    """The day before (from 24 hours before) and two hours before; one of the two when the scan comes late."""
    result = ScanResult()
    query = (
        select(Appointment, Customer)
        .join(Customer, Appointment.customer_id == Customer.id)
        .where(Appointment.status == "booked", Appointment.starts_at > now, Appointment.starts_at <= now + DAY_BEFORE)
    )
    for rows in _chunks(session, query, Appointment.id):
        found = []
        for appointment, customer in rows:
            stage = "two_hours" if appointment.starts_at - now <= TWO_HOURS else "day_before"
            payload = {"appointment_id": appointment.id, "starts_at": appointment.starts_at.isoformat(), "stage": stage}
            message = Pending(key("appointment_reminder", f"appointment-{appointment.id}", appointment.starts_at, stage),
                              "appointment_reminder", customer.id, payload, now)
            found.append(Due(message, _allowed(customer, "appointment_reminder")))
        _write(session, now, found, result)
        session.expunge_all()
    return result


# --- warranty ends ---------------------------------------------------------------------------------------


def scan_warranty_expiry(session: Session, now: datetime, settings: Settings) -> ScanResult:
    """30 days before the end of a car's last warranty contract, and in its last week."""
    result = ScanResult()
    today = now.astimezone(settings.tz).date()
    query = (
        select(Warranty, Customer)
        .join(Vehicle, Warranty.vehicle_id == Vehicle.id)
        .join(Customer, Vehicle.customer_id == Customer.id)
        .where(Warranty.end_date >= today, Warranty.end_date <= today + timedelta(days=WARRANTY_NOTICE_DAYS))
    )
    for rows in _chunks(session, query, Warranty.id):
        vehicle_ids = [w.vehicle_id for w, _ in rows]
        # A car whose cover goes on under a later contract is not told that it ends.
        later = set(session.scalars(select(Warranty.vehicle_id).where(
            Warranty.vehicle_id.in_(vehicle_ids), Warranty.end_date > today + timedelta(days=WARRANTY_NOTICE_DAYS))))
        found = []
        for warranty, customer in rows:
            if warranty.vehicle_id in later:
                continue
            days_left = (warranty.end_date - today).days
            stage = "last_week" if days_left <= WARRANTY_LAST_WEEK_DAYS else "30_days"
            payload = {"warranty_id": warranty.id, "end_date": warranty.end_date.isoformat(), "stage": stage}
            message = Pending(key("warranty_expiry", f"warranty-{warranty.id}", warranty.end_date, stage),
                              "warranty_expiry", customer.id, payload, now)
            found.append(Due(message, _allowed(customer, "warranty_expiry")))
        _write(session, now, found, result)
        session.expunge_all()
    return result


Scan = Callable[[Session, datetime, Settings], ScanResult]


def _registry() -> dict[str, Scan]:
    from scheduler import scans_more

    return {
        "service_reminders": scan_service_due,
        "appointment_reminders": scan_appointments,
        "warranty_expiry": scan_warranty_expiry,
        "recall_notices": scans_more.scan_recalls,
        "feedback_surveys": scans_more.scan_feedback_surveys,
        "stock_alerts": scans_more.scan_stock_alerts,
        "case_deadlines": scans_more.scan_case_deadlines,
    }


# Stable names: the job ids of the scheduler and the keys of `run-once`'s JSON, in the order they run.
SCANS: dict[str, Scan] = _registry()
