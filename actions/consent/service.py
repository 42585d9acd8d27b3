"""A customer's notification consents: read them, change them (chat, staff console, scheduler)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from actions.consent.rules import KINDS, MESSAGE_KINDS, changeable
from db.models import Customer, OutboxMessage
from dealerbot.logging import get_logger

log = get_logger("actions.consent")


def consents(customer: Customer) -> dict[str, bool]:
    """Kind → whether the customer agreed to receive it."""
    return {kind: bool(getattr(customer, f"consent_{kind}")) for kind in KINDS}


def changeable_kinds(customer: Customer, on: bool) -> list[str]:
    """The kinds a request to turn them `on` (or off) would change for this customer."""
    return changeable(consents(customer), on)


def set_consents(
    session: Session, now: datetime, customer: Customer, kinds: Iterable[str], given: bool
) -> list[str]:
    """Give (or withdraw) consent for the kinds; returns the kinds set (unknown names are ignored).
    Withdrawn, the customer's queued messages of those kinds are cancelled at once."""
    chosen = [k for k in KINDS if k in set(kinds)]
    for kind in chosen:
        setattr(customer, f"consent_{kind}", given)
    customer.updated_at = now
    cancelled = 0
    if not given and chosen:
        messages = [m for kind in chosen for m in MESSAGE_KINDS[kind]]
        cancelled = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.customer_id == customer.id, OutboxMessage.kind.in_(messages),
                   OutboxMessage.status == "pending")
            .values(status="cancelled", last_error="the customer opted out of this kind")
        ).rowcount or 0
    log.info("consent_changed", customer_id=customer.id, kinds=chosen, given=given, cancelled=cancelled)
    return chosen
