"""Complaint reads and writes, without a conversation (chat, a scheduler job or a staff console alike):
opening a complaint (ticket C-<n>) with its SLA deadlines, a customer's complaints and warranty claims
for the status answer, and the cases past their deadline with the alert that escalates them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from actions.complaints.rules import FINISHED_STATUSES, RECENTLY_FINISHED, complaint_deadlines, complaint_next
from actions.kit.alerts import alert_staff
from actions.warranty import service as warranty
from actions.warranty.rules import claim_next
from dealerbot.logging import get_logger
from db.models import CaseNote, Complaint, Vehicle, WarrantyClaim

log = get_logger("actions.complaints")

Case = Complaint | WarrantyClaim


def open_complaint(
    session: Session,
    now: datetime,
    *,
    tz: tzinfo,
    response_hours: int,
    customer_id: int,
    vehicle_id: int | None,
    category: str,
    description: str,
    source: str = "chat",
    photos: Sequence[str] = (),
) -> Complaint:
    """Register a complaint with its SLA deadlines, acknowledged now, and alert customer care. Without a
    vehicle_id it is about the customer's car when they have exactly one."""
    if vehicle_id is None:
        cars = list(session.scalars(select(Vehicle.id).where(Vehicle.customer_id == customer_id).limit(2)))
        vehicle_id = cars[0] if len(cars) == 1 else None
    due = complaint_deadlines(now, tz, category, description, response_hours)
    complaint = Complaint(
        customer_id=customer_id,
        vehicle_id=vehicle_id,
        category=category,
        severity="safety" if due.safety else "normal",
        description=description,
        photos=list(photos),
        source=source,
        status="acknowledged",
        acknowledge_by=now,
        acknowledged_at=now,
        respond_by=due.respond_by,
        resolve_by=due.resolve_by,
        escalation_level=0,
        created_at=now,
        updated_at=now,
    )
    session.add(complaint)
    session.flush()
    alert_staff(
        session,
        now,
        customer_id=customer_id,
        kind="complaint",
        key=f"alert:complaint:{complaint.id}",
        payload={
            "ticket": complaint.ticket_id,
            "customer_id": customer_id,
            "category": category,
            "severity": complaint.severity,
            "source": source,
            "respond_by": due.respond_by.isoformat(),
            "urgent": due.safety,
        },
        recipient="customer-care",
    )
    log.info("complaint_opened", ticket=complaint.ticket_id, severity=complaint.severity, source=source)
    return complaint


# --- a customer's cases ------------------------------------------------------------------------------------


def cases_of(session: Session, now: datetime, customer_id: int) -> list[Case]:
    """A customer's unfinished claims and complaints and those finished recently, the newest first."""
    since = now - RECENTLY_FINISHED
    complaints = session.scalars(
        select(Complaint).where(
            Complaint.customer_id == customer_id,
            or_(Complaint.status.not_in(FINISHED_STATUSES), Complaint.updated_at >= since),
        )
    )
    cases: list[Case] = [*warranty.claims_of(session, customer_id, since), *complaints]
    return sorted(cases, key=lambda case: case.created_at, reverse=True)


def case_of(session: Session, customer_id: int, kind: str, number: int) -> Case | None:
    """Ticket WC-<number> or C-<number> (kind "WC" or "C") if it is this customer's."""
    if kind == "WC":
        return warranty.claim_of(session, customer_id, number)
    return session.scalar(select(Complaint).where(Complaint.id == number, Complaint.customer_id == customer_id))


def last_note(session: Session, case: Case) -> CaseNote | None:
    """The latest update on a case that the customer may see."""
    column = CaseNote.warranty_claim_id if isinstance(case, WarrantyClaim) else CaseNote.complaint_id
    return session.scalar(
        select(CaseNote)
        .where(column == case.id, CaseNote.visible_to_customer.is_(True))
        .order_by(CaseNote.created_at.desc(), CaseNote.id.desc())
        .limit(1)
    )


def next_deadline(case: Case) -> tuple[str | None, datetime | None]:
    """What we owe on the case next ("acknowledge", "answer", "resolve") and by when; (None, None) if nothing."""
    return claim_next(case) if isinstance(case, WarrantyClaim) else complaint_next(case)


# --- deadlines missed ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overdue:
    """A case past its next deadline."""

    ticket: str
    customer_id: int
    deadline: str  # "acknowledge", "answer" or "resolve"
    due: datetime


def overdue(case: Case, now: datetime) -> Overdue | None:
    """The case's missed deadline, if it has one."""
    what, due = next_deadline(case)
    if what is None or due is None or due >= now:
        return None
    return Overdue(case.ticket_id, case.customer_id, what, due)


def overdue_cases(session: Session, now: datetime, customer_id: int | None = None) -> list[Overdue]:
    """Every unfinished complaint and warranty claim past its next deadline (of one customer, or all)."""
    query = select(Complaint).where(Complaint.status.not_in(FINISHED_STATUSES))
    if customer_id is not None:
        query = query.where(Complaint.customer_id == customer_id)
    cases: list[Case] = [*warranty.unanswered_claims(session, now, customer_id), *session.scalars(query)]
    return [late for case in cases if (late := overdue(case, now)) is not None]


def escalate_overdue(session: Session, now: datetime, tz: tzinfo, cases: Iterable[Overdue]) -> int:
    """Ask customer care to deal with each case first: one alert per case and local day, however often it
    is seen that day. The number of alerts queued now."""
    day = now.astimezone(tz).date().isoformat()
    queued = 0
    for late in cases:
        queued += alert_staff(
            session,
            now,
            customer_id=late.customer_id,
            kind="case_overdue",
            key=f"alert:case_overdue:{late.ticket}:{day}",
            payload={"ticket": late.ticket, "deadline": late.deadline, "due": late.due.isoformat()},
            recipient="customer-care",
        )
    return queued
