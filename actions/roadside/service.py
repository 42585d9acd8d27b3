"""Roadside incidents: which branch's team responds, and what the staff alerts carry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from actions.branches import rules as branch_rules
from actions.kit.vehicles import label
from db.models import Branch, ChannelIdentity, Customer, Vehicle


def incident_key(channel_identity_id: int, now: datetime) -> str:
    """The incident's key: alerts of one breakdown share it."""
    return f"roadside:{channel_identity_id}:{now.isoformat()}"


def responding_branch(
    branches: Sequence[Branch],
    named: Branch | None,
    coords: tuple[float, float] | None,
    home_branch_id: int | None,
) -> Branch | None:
    """The branch the customer named, else the nearest to a shared location, else their own branch."""
    if named is not None:
        return named
    if coords is not None and branches:
        return branch_rules.nearest(branches, *coords)
    return next((b for b in branches if b.id == home_branch_id), None)


def alert_payload(
    identity: ChannelIdentity,
    customer: Customer | None,
    language: str,
    branch: Branch | None,
    vehicle: Vehicle | None,
) -> dict[str, Any]:
    """Who is stuck, how to reach them and which car: the common part of every roadside alert."""
    payload: dict[str, Any] = {
        "urgent": True,
        "branch": branch.code if branch else None,
        "channel": identity.channel,
        "channel_identity_id": identity.id,
        "contact": identity.external_id,
        "customer_id": customer.id if customer else None,
        "language": language,
    }
    if customer is not None:
        payload.update(customer_name=customer.name, customer_phone=customer.phone)
    if vehicle is not None:
        payload.update(vehicle_id=vehicle.id, vehicle=label(vehicle), vin=vehicle.vin)
    return payload
