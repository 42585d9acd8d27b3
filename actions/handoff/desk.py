"""The staff side of a hand-off (the staff console): the conversations waiting for a person, taking one,
writing to the customer in it, and giving it back to the assistant.

While a hand-off is taken the assistant says nothing in that conversation (actions.handoff.chat.while_held);
what the customer writes is kept in the transcript, which the console shows as it comes. A staff member's
message is an outbox row of kind `staff_chat` addressed to that conversation (its channel identity, even for
a sender we do not know by phone), sent by the dispatcher at once (not held for the quiet hours) and kept
in the transcript. On WhatsApp, 24 hours after the customer's last message only a template may go: the row
is then skipped (`no_template`) and the console says so.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actions.handoff.service import customer_branch, release
from actions.kit.alerts import queue_message
from db.models import ChannelIdentity, Customer, Handoff, OutboxMessage, StaffUser

MAX_MESSAGE = 2000


class DeskError(ValueError):
    """What a staff member asked cannot be done (the message says why)."""


def active(session: Session) -> list[Handoff]:
    """Hand-offs waiting for a person or taken by one, the longest waiting first."""
    return list(session.scalars(
        select(Handoff).where(Handoff.status.in_(("open", "claimed"))).order_by(Handoff.created_at, Handoff.id)))


def branch_of(session: Session, handoff: Handoff) -> int | None:
    customer = session.get(Customer, handoff.customer_id) if handoff.customer_id is not None else None
    branch = customer_branch(session, customer)
    return branch.id if branch is not None else None


def may_handle(session: Session, user: StaffUser, handoff: Handoff) -> bool:
    """An advisor handles their branch's conversations; managers and admins every branch's."""
    return user.role != "advisor" or branch_of(session, handoff) in (user.branch_id, None)


def take(session: Session, handoff: Handoff, user: StaffUser, now: datetime) -> None:
    """Take a waiting conversation; refused when a colleague took it first (checked in the database)."""
    taken = session.execute(
        update(Handoff).where(Handoff.id == handoff.id, Handoff.status == "open")
        .values(status="claimed", claimed_by_staff_id=user.id, claimed_at=now)
    ).rowcount
    if not taken:
        raise DeskError("this conversation is no longer waiting (a colleague took it, or it was given back)")
    session.refresh(handoff)


def give_back(handoff: Handoff, user: StaffUser, now: datetime) -> None:
    if handoff.status == "released":
        raise DeskError("this conversation is with the assistant already")
    if handoff.status == "claimed" and handoff.claimed_by_staff_id != user.id and user.role == "advisor":
        raise DeskError("a colleague has this conversation")
    release(handoff, now)


def write(session: Session, handoff: Handoff, user: StaffUser, said: str, now: datetime) -> OutboxMessage:
    """Queue a message to the customer in this conversation (its own channel)."""
    said = said.strip()
    if not said:
        raise DeskError("the message is empty")
    if len(said) > MAX_MESSAGE:
        raise DeskError(f"the message is longer than {MAX_MESSAGE} characters")
    if handoff.status != "claimed" or handoff.claimed_by_staff_id != user.id:
        raise DeskError("take the conversation first")
    identity = session.get(ChannelIdentity, handoff.channel_identity_id)
    if identity is None or identity.channel not in ("telegram", "whatsapp"):
        raise DeskError("this conversation is not on Telegram or WhatsApp: it cannot be written to from here")
    row = queue_message(session, now, key=f"staff_chat:handoff-{handoff.id}:{secrets.token_hex(8)}", kind="staff_chat",
                        customer_id=handoff.customer_id, channel=identity.channel, recipient=f"identity:{identity.id}",
                        payload={"identity_id": identity.id, "handoff_id": handoff.id, "text": said,
                                 "staff_user_id": user.id})
    session.flush()
    return row
