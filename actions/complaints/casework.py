"""What the service team does with a case from the staff console, as plain service functions: find a
ticket, change its status, assign it, add an internal note, answer the customer.

An answer is a note the customer may see (their "last update" in the chat's case status) and a message to
them: an outbox row of kind `staff_reply`, sent by the dispatcher on the channel they wrote on last and
kept in their transcript. The first answer also marks the case answered (its response deadline is met).
Statuses follow the case: a complaint's acknowledged / in progress / resolved / closed set the matching
times; a claim moves through review, approval or rejection, repair and closing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.kit.alerts import queue_message
from db.models import CLAIM_STATUSES, COMPLAINT_STATUSES, CaseNote, Complaint, StaffUser, WarrantyClaim

Case = Complaint | WarrantyClaim
_TICKET = re.compile(r"^(WC|C)-(\d{1,9})$", re.IGNORECASE)
MAX_NOTE = 4000


class CaseworkError(ValueError):
    """A change the case cannot take (the message says why, for the staff member)."""


@dataclass(frozen=True)
class TicketRef:
    kind: str  # "C" or "WC"
    number: int


def parse_ticket(ticket: str) -> TicketRef | None:
    match = _TICKET.match(ticket.strip())
    return TicketRef(match.group(1).upper(), int(match.group(2))) if match else None


def find_case(session: Session, ticket: str) -> Case | None:
    ref = parse_ticket(ticket)
    if ref is None:
        return None
    return session.get(WarrantyClaim if ref.kind == "WC" else Complaint, ref.number)


def statuses(case: Case) -> tuple[str, ...]:
    return CLAIM_STATUSES if isinstance(case, WarrantyClaim) else COMPLAINT_STATUSES


def notes(session: Session, case: Case) -> list[CaseNote]:
    column = CaseNote.warranty_claim_id if isinstance(case, WarrantyClaim) else CaseNote.complaint_id
    return list(session.scalars(select(CaseNote).where(column == case.id).order_by(CaseNote.created_at, CaseNote.id)))


def set_status(case: Case, status: str, now: datetime) -> None:
    if status not in statuses(case):
        raise CaseworkError(f"{status!r} is not a status of {case.ticket_id}")
    case.status = status
    if isinstance(case, Complaint):
        if status != "open" and case.acknowledged_at is None:
            case.acknowledged_at = now
        if status in ("resolved", "closed") and case.resolved_at is None:
            case.resolved_at = now
    elif status in ("approved", "rejected", "in_repair", "closed") and case.responded_at is None:
        case.responded_at = now
    if status in ("closed", "resolved", "rejected") and case.resolved_at is None and isinstance(case, WarrantyClaim):
        case.resolved_at = now


def assign(session: Session, case: Case, staff_user_id: int | None) -> None:
    if staff_user_id is not None:
        user = session.get(StaffUser, staff_user_id)
        if user is None or not user.active:
            raise CaseworkError("no such active staff user")
    case.assigned_staff_id = staff_user_id


def add_note(session: Session, case: Case, body: str, staff_user_id: int, now: datetime,
             visible_to_customer: bool = False) -> CaseNote:
    body = body.strip()
    if not body:
        raise CaseworkError("the note is empty")
    if len(body) > MAX_NOTE:
        raise CaseworkError(f"the note is longer than {MAX_NOTE} characters")
    note = CaseNote(complaint_id=case.id if isinstance(case, Complaint) else None,
                    warranty_claim_id=case.id if isinstance(case, WarrantyClaim) else None,
                    staff_user_id=staff_user_id, body=body, visible_to_customer=visible_to_customer, created_at=now)
    session.add(note)
    session.flush()
    return note


def answer(session: Session, case: Case, body: str, staff_user_id: int, now: datetime) -> CaseNote:
    """The customer's answer: a visible note, the case answered, and the message queued for them."""
    note = add_note(session, case, body, staff_user_id, now, visible_to_customer=True)
    if isinstance(case, Complaint) and case.acknowledged_at is None:
        case.acknowledged_at = now
    if case.responded_at is None:
        case.responded_at = now
    queue_message(session, now, key=f"staff_reply:{case.ticket_id}:note-{note.id}", kind="staff_reply",
                  customer_id=case.customer_id, payload={"ticket": case.ticket_id, "note_id": note.id})
    return note
