"""Work found during a visit, approved or declined by the customer before it is done.

The advisor adds an item with its price in the staff console (`add_item`); the customer gets a message
(an outbox row of kind `work_approval`, at once, not held for the quiet hours: the car is on the lift)
with two options, approve and decline, and their pick is recorded by `decide` (the chat's
`work_approval` handler). Only the owner of the appointment decides, once.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.kit.alerts import queue_message
from db.models import Appointment, WorkItem

MAX_PRICE = Decimal("1000000")


class WorkError(ValueError):
    """An item that cannot be added or decided so (the message says why)."""


def price_of(said: str) -> Decimal:
    try:
        price = Decimal(said.replace(",", "").strip())
    except InvalidOperation:
        raise WorkError(f"{said!r} is not a price in AED") from None
    if not price.is_finite() or price < 0 or price >= MAX_PRICE:
        raise WorkError(f"{said!r} is not a price in AED")
    return price.quantize(Decimal("0.01"))


def add_item(session: Session, appointment: Appointment, description: str, price: Decimal, staff_user_id: int | None,
             now: datetime) -> WorkItem:
    description = description.strip()
    if not description or len(description) > 300:
        raise WorkError("describe the work in 1 to 300 characters")
    if appointment.status != "booked":
        raise WorkError(f"{appointment.reference} is {appointment.status}: no work can be added")
    item = WorkItem(appointment_id=appointment.id, description=description, price_aed=price, status="pending",
                    created_by_staff_id=staff_user_id, created_at=now)
    session.add(item)
    session.flush()
    queue_message(session, now, key=f"work_approval:item-{item.id}", kind="work_approval",
                  customer_id=appointment.customer_id, payload={"appointment_id": appointment.id, "item_id": item.id})
    return item


def items(session: Session, appointment_ids: list[int]) -> list[WorkItem]:
    if not appointment_ids:
        return []
    return list(session.scalars(select(WorkItem).where(WorkItem.appointment_id.in_(appointment_ids))
                                .order_by(WorkItem.id)))


def decide(session: Session, customer_id: int | None, item_id: int, approve: bool, now: datetime) -> WorkItem:
    """The customer's answer on one item; refused for someone else's, or one decided already."""
    item = session.get(WorkItem, item_id)
    appointment = session.get(Appointment, item.appointment_id) if item is not None else None
    if item is None or appointment is None or customer_id is None or appointment.customer_id != customer_id:
        raise WorkError("no such item")
    if item.status != "pending":
        raise WorkError(f"decided already: {item.status}")
    item.status = "approved" if approve else "declined"
    item.decided_at = now
    return item
