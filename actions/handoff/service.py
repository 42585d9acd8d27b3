"""Hand-offs: whose branch answers, when staff can answer, and opening one (no Turn needed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.kit.hours import OpeningHours
from actions.kit.normalise import norm
from db.models import Appointment, Branch, ChannelIdentity, Customer, Handoff, ServiceRecord, Vehicle

# Staff answer a hand-off within this long while the branch is open; a request closer than this to
# closing time is promised for the next opening instead.
ANSWER_WITHIN = timedelta(minutes=30)


def customer_branch(session: Session, customer: Customer | None) -> Branch | None:
    """The branch that looks after the customer, else the main branch (the first one opened).

    The customer's branch is where they were seen last: their latest appointment, else their cars' latest
    service, else the branch that sold them their latest car.
    """
    branch_id = None
    if customer is not None:
        branch_id = session.scalar(
            select(Appointment.branch_id)
            .where(Appointment.customer_id == customer.id)
            .order_by(Appointment.starts_at.desc())
            .limit(1)
        )
        if branch_id is None:
            branch_id = session.scalar(
                select(ServiceRecord.branch_id)
                .join(Vehicle, Vehicle.id == ServiceRecord.vehicle_id)
                .where(Vehicle.customer_id == customer.id, ServiceRecord.branch_id.is_not(None))
                .order_by(ServiceRecord.service_date.desc(), ServiceRecord.id.desc())
                .limit(1)
            )
        if branch_id is None:
            branch_id = session.scalar(
                select(Vehicle.sold_by_branch_id)
                .where(Vehicle.customer_id == customer.id, Vehicle.sold_by_branch_id.is_not(None))
                .order_by(Vehicle.purchase_date.desc(), Vehicle.id.desc())
                .limit(1)
            )
    if branch_id is not None:
        return session.get(Branch, branch_id)
    return session.scalar(select(Branch).order_by(Branch.id).limit(1))


def next_answer_time(session: Session, branch: Branch, now: datetime, tz: ZoneInfo) -> datetime | None:
    """When staff can answer (UTC): `now` while the branch is open with time to answer before closing,
    else the next opening; None when the branch has no opening hours at all."""
    at = OpeningHours.of_branch(session, branch.id).next_answer(now.astimezone(tz), ANSWER_WITHIN)
    return at.astimezone(UTC) if at is not None else None


def handoff_reason(said: str | None) -> str | None:
    """The customer's own words for staff; a bare menu number ("7") says nothing."""
    said = (said or "").strip()
    return said if re.search(r"[^\W\d_]", said) else None


def open_handoff(
    session: Session, now: datetime, channel_identity_id: int, customer_id: int | None, reason: str | None
) -> Handoff:
    """A new open hand-off of the conversation (flushed, so it has its id)."""
    handoff = Handoff(
        channel_identity_id=channel_identity_id,
        customer_id=customer_id,
        reason=reason,
        status="open",
        created_at=now,
    )
    session.add(handoff)
    session.flush()
    return handoff


def alert_payload(
    handoff: Handoff,
    identity: ChannelIdentity,
    customer: Customer | None,
    language: str,
    branch: Branch | None,
    answer_by: datetime,
) -> dict[str, Any]:
    """What the staff alert of a hand-off carries."""
    return {
        "handoff_id": handoff.id,
        "channel": identity.channel,
        "channel_identity_id": identity.id,
        "customer_id": customer.id if customer else None,
        "customer_name": customer.name if customer else identity.display_name,
        "language": language,
        "reason": handoff.reason,
        "branch": branch.code if branch else None,
        "answer_by": answer_by.astimezone(UTC).isoformat(),
    }


# A customer writing while they wait for a person is told again when someone answers, at most this often.
HELD_NOTE_EVERY = timedelta(minutes=15)
# Whole messages that take a waiting conversation back from the staff queue to the assistant.
_ASSISTANT_WORDS = frozenset(norm(word) for word in (
    "assistant", "bot", "back to bot", "back to the bot", "back to assistant", "back to the assistant",
    "never mind", "nevermind", "no need", "cancel the request",
    "المساعد", "الرجوع للمساعد", "رجوع للمساعد", "البوت", "ما ابي موظف", "ما أبي موظف", "لا داعي", "مو لازم",
))


def waiting_handoff(session: Session, channel_identity_id: int) -> Handoff | None:
    """The conversation's hand-off nobody has taken yet (None when there is none, or staff took it)."""
    return session.scalar(
        select(Handoff)
        .where(Handoff.channel_identity_id == channel_identity_id, Handoff.status == "open")
        .order_by(Handoff.id.desc())
        .limit(1)
    )


def wants_assistant(said: str | None) -> bool:
    """Whether the whole message asks for the assistant back ("bot", "المساعد", "never mind")."""
    return norm(said) in _ASSISTANT_WORDS


def release(handoff: Handoff, now: datetime) -> None:
    """Give the conversation back to the assistant."""
    handoff.status = "released"
    handoff.released_at = now
