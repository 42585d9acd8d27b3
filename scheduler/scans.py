"""The scans: what is due as of a moment, written to the outbox (scheduler.outbox), never sent from here.

Each scan reads the database in chunks of `CHUNK` subjects (memory stays flat however many vehicles
there are), asks the same rules the chat answers from (actions.maintenance.rules for the next service),
and enqueues one row per message under its idempotency key. Run twice, late, or after a crash, a scan
adds nothing twice: `already_enqueued` counts what an earlier run had added. `found` counts the subjects
due now; each is either enqueued, already enqueued, or skipped because the customer opted out of
that kind (`opted_out`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
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

CHUNK = 2_000

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


def _chunks(session: Session, query: Select[Any], id_column: Any) -> Iterator[list[Any]]:
    """The rows of `query` in id order, CHUNK at a time (keyset pagination: no offset, no growing cost)."""
    last = 0
    while True:
        rows = session.execute(query.where(id_column > last).order_by(id_column).limit(CHUNK)).all()
        if not rows:
            return
        yield rows
        last = getattr(rows[-1][0], "id", rows[-1][0])


# --- service reminders -----------------------------------------------------------------------------------


def scan_service_due(session: Session, now: datetime, settings: Settings) -> ScanResult:
    result = ScanResult()
    tz = settings.tz
    today = now.astimezone(tz).date()
    plans = [(p.make, p.model, p.interval_km, p.interval_months)
             for p in session.scalars(select(MaintenancePlan).order_by(MaintenancePlan.id))]
    # Columns, not ORM objects (a third of the time at 100,000 cars went to building objects); the related
    # rows of a chunk by its id range (the chunks are id ranges: a BETWEEN, not an IN of 2,000 ids).
    # The cars alone, in id order (a join with customers let SQLite's planner start from customers and
    # sort every chunk: time grew with the square of the fleet); their owners' consent by primary key.
    query = select(Vehicle.id, Vehicle.make, Vehicle.model, Vehicle.purchase_date, Vehicle.created_at,
                   Vehicle.customer_id).where(Vehicle.customer_id.is_not(None))
    for rows in _chunks(session, query, Vehicle.id):
        low, high = rows[0].id, rows[-1].id
        consent = dict(session.execute(
            select(Customer.id, Customer.consent_service_reminders)
            .where(Customer.id.in_({r.customer_id for r in rows}))
        ).all())
        records: dict[int, list[Any]] = defaultdict(list)
        for record in session.execute(
            select(ServiceRecord.id, ServiceRecord.vehicle_id, ServiceRecord.service_date, ServiceRecord.mileage_km,
                   ServiceRecord.work).where(ServiceRecord.vehicle_id.between(low, high))
        ):
            records[record.vehicle_id].append(record)
        points: dict[int, list[tuple[date, int]]] = defaultdict(list)
        for vehicle_id, recorded_at, km in session.execute(
            select(MileageReading.vehicle_id, MileageReading.recorded_at, MileageReading.reading_km)
            .where(MileageReading.vehicle_id.between(low, high))
        ):
            points[vehicle_id].append((recorded_at.astimezone(tz).date(), km))
        inspected = dict(session.execute(
            select(InspectionReport.vehicle_id, InspectionReport.mileage_km)
            .where(InspectionReport.vehicle_id.between(low, high)).order_by(InspectionReport.id.desc())
        ).all())
        booked = set(session.scalars(
            select(Appointment.vehicle_id).where(
                Appointment.vehicle_id.between(low, high), Appointment.status == "booked", Appointment.starts_at >= now)
        ))
        found: list[tuple[Any, maintenance.Due, str]] = []
        for vehicle in rows:
            if vehicle.id in booked:
                continue  # a service is booked: no reminder
            due = _due(vehicle, plans, records[vehicle.id], points[vehicle.id], inspected.get(vehicle.id), today, tz)
            stage = _service_stage(due, today)
            if stage is not None:
                found.append((vehicle, due, stage))
        _write(session, now, _service_messages(session, now, today, found, consent), result)
    return result


def _due(vehicle: Any, plans: list[maintenance.Plan], records: list[Any], points: list[tuple[date, int]],
         inspected_km: int | None, today: date, tz: Any) -> maintenance.Due:
    """actions.maintenance.service.next_service, from rows loaded for a whole chunk."""
    points = sorted(points + [(r.service_date, r.mileage_km) for r in records if r.mileage_km is not None])
    last, base_date, base_km = maintenance.base_of(records, points, vehicle.purchase_date,
                                                   vehicle.created_at.astimezone(tz).date())
    if base_km is None and last is None:
        base_km = inspected_km
    return maintenance.due(vehicle, maintenance.best_plan(plans, vehicle.make, vehicle.model), last, base_date,
                           base_km, points, today)


def _due_on(due: maintenance.Due) -> date:
    """When the service falls due: the date, or earlier the day the usual driving reaches the km."""
    if due.km_reached_on is not None and due.km_reached_on < due.due_date:
        return due.km_reached_on
    return due.due_date


def _service_stage(due: maintenance.Due, today: date) -> str | None:
    falls_due = _due_on(due)
    if falls_due - today > timedelta(days=NOTICE_DAYS):
        return None
    return "follow_up" if (today - falls_due).days >= FOLLOW_UP_DAYS else "notice"


def _service_messages(session: Session, now: datetime, today: date, found: list[tuple[Any, maintenance.Due, str]],
                      consent: dict[int, bool]) -> list[Due]:
    """The notice, or the follow-up where the notice went out FOLLOW_UP_DAYS ago and nothing is booked.
    Whether a notice exists is looked up only where it matters: a follow-up, or a car long overdue."""
    def notice_key(due: maintenance.Due) -> str:
        return key("service_due", f"vehicle-{due.vehicle.id}", due.due_date, "notice")

    asked = [notice_key(d) for _, d, stage in found
             if stage == "follow_up" or (today - _due_on(d)).days > MAX_OVERDUE_DAYS]
    sent = dict(session.execute(
        select(OutboxMessage.idempotency_key, OutboxMessage.sent_at).where(OutboxMessage.idempotency_key.in_(asked))
    ).all()) if asked else {}
    out: list[Due] = []
    for row, due, stage in found:
        if notice_key(due) in sent:
            sent_at = sent[notice_key(due)]
            if stage != "follow_up" or sent_at is None or now - sent_at < timedelta(days=FOLLOW_UP_DAYS):
                stage = "notice"  # counted as already enqueued; the follow-up waits
        else:
            if (today - _due_on(due)).days > MAX_OVERDUE_DAYS:
                continue
            stage = "notice"
        by_km = due.km_reached_on is not None and due.km_reached_on < due.due_date
        payload = {"vehicle_id": due.vehicle.id, "due_date": due.due_date.isoformat(), "due_km": due.due_km,
                   "by": "km" if by_km and due.km_reached_on and due.km_reached_on <= today else "date",
                   "stage": stage}
        message = Pending(key("service_due", f"vehicle-{due.vehicle.id}", due.due_date, stage), "service_due",
                          row.customer_id, payload, now)
        out.append(Due(message, bool(consent.get(row.customer_id))))
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
