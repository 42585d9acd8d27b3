"""The case queue: open complaints and warranty claims with their next deadline, for one staff user.

A case's branch is its appointment's branch, else the branch that sold the car; an advisor sees the cases
of their branch and those no branch is known for (someone must pick those up); a manager or an admin sees
every branch. Sorted by the next deadline, the earliest (or most overdue) first; finished cases are not in
the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.complaints.rules import FINISHED_STATUSES
from actions.complaints.service import next_deadline
from actions.kit.vehicles import label as vehicle_label
from db.models import Appointment, Branch, Complaint, Customer, StaffUser, Vehicle, WarrantyClaim

CLAIM_FINISHED = ("closed", "rejected")


@dataclass(frozen=True)
class QueueItem:
    ticket: str
    kind: str  # "complaint" or "claim"
    status: str
    urgency: str  # "safety" or "normal"
    deadline: str | None  # "acknowledge", "answer", "resolve"
    due: datetime | None
    breached: bool
    escalation_level: int
    customer: str
    vehicle: str | None
    branch_id: int | None
    branch: str | None
    subject: str


@dataclass(frozen=True)
class Filters:
    branch_id: int | None = None
    status: str | None = None
    urgency: str | None = None


def visible_branches(user: StaffUser) -> set[int | None] | None:
    """The branches whose cases the user sees (None: all); an advisor's own and the unknown one."""
    return None if user.role in ("manager", "admin") else {user.branch_id, None}


def case_branch(session: Session, case: Complaint | WarrantyClaim) -> int | None:
    """The branch a case belongs to: its appointment's, else the one that sold the car."""
    appointment_id = getattr(case, "appointment_id", None)
    if appointment_id is not None:
        appointment = session.get(Appointment, appointment_id)
        if appointment is not None:
            return appointment.branch_id
    vehicle = session.get(Vehicle, case.vehicle_id) if case.vehicle_id is not None else None
    return vehicle.sold_by_branch_id if vehicle is not None else None


def may_see(session: Session, user: StaffUser, case: Complaint | WarrantyClaim) -> bool:
    allowed = visible_branches(user)
    return allowed is None or case_branch(session, case) in allowed


def queue(session: Session, user: StaffUser, now: datetime, filters: Filters = Filters(), language: str = "en") -> list[QueueItem]:
    branches = {b.id: (b.name_ar if language == "ar" else b.name_en) for b in session.scalars(select(Branch))}
    allowed = visible_branches(user)
    items: list[QueueItem] = []
    complaints = session.execute(
        select(Complaint, Customer, Vehicle, Appointment.branch_id)
        .join(Customer, Complaint.customer_id == Customer.id)
        .outerjoin(Vehicle, Complaint.vehicle_id == Vehicle.id)
        .outerjoin(Appointment, Complaint.appointment_id == Appointment.id)
        .where(Complaint.status.not_in(FINISHED_STATUSES))
    ).all()
    for complaint, customer, vehicle, appointment_branch in complaints:
        branch_id = appointment_branch or (vehicle.sold_by_branch_id if vehicle is not None else None)
        items.append(_item(complaint, "complaint", complaint.severity, complaint.category, customer, vehicle,
                           branch_id, branches, now))
    claims = session.execute(
        select(WarrantyClaim, Customer, Vehicle)
        .join(Customer, WarrantyClaim.customer_id == Customer.id)
        .join(Vehicle, WarrantyClaim.vehicle_id == Vehicle.id)
        .where(WarrantyClaim.status.not_in(CLAIM_FINISHED))
    ).all()
    for claim, customer, vehicle in claims:
        items.append(_item(claim, "claim", "normal", claim.component, customer, vehicle, vehicle.sold_by_branch_id,
                           branches, now))
    shown = [
        i for i in items
        if (allowed is None or i.branch_id in allowed)
        and (filters.branch_id is None or i.branch_id == filters.branch_id)
        and (filters.status is None or i.status == filters.status)
        and (filters.urgency is None or i.urgency == filters.urgency)
    ]
    return sorted(shown, key=lambda i: (i.due is None, i.due or now, i.ticket))


def _item(case: Complaint | WarrantyClaim, kind: str, urgency: str, subject: str, customer: Customer,
          vehicle: Vehicle | None, branch_id: int | None, branches: dict[int, str], now: datetime) -> QueueItem:
    what, due = next_deadline(case)
    return QueueItem(
        ticket=case.ticket_id, kind=kind, status=case.status, urgency="safety" if urgency == "safety" else "normal",
        deadline=what, due=due, breached=due is not None and due < now, escalation_level=case.escalation_level,
        customer=customer.name, vehicle=vehicle_label(vehicle) if vehicle is not None else None,
        branch_id=branch_id, branch=branches.get(branch_id) if branch_id is not None else None, subject=subject,
    )
