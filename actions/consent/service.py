"""A customer's notification consents: read them, change them (chat, staff console, scheduler)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from actions.consent.rules import KINDS, changeable
from db.models import Customer
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
    """Give (or withdraw) consent for the kinds; returns the kinds set (unknown names are ignored)."""
    chosen = [k for k in KINDS if k in set(kinds)]
    for kind in chosen:
        setattr(customer, f"consent_{kind}", given)
    customer.updated_at = now
    log.info("consent_changed", customer_id=customer.id, kinds=chosen, given=given)
    return chosen
