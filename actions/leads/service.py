"""Leads: a request for staff, written for the team that handles its kind, with its staff alert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from db.models import Lead
from dealerbot.logging import get_logger

log = get_logger("actions.leads")

# The staff team that handles each kind of lead (the recipient of its alert).
TEAMS = {"trade_in_valuation": "sales", "upgrade": "sales", "refinance": "finance",
         "instalment_change": "finance", "insurance": "finance", "parts_request": "parts-desk"}


def team_of(kind: str) -> str:
    return TEAMS.get(kind, "sales")


@dataclass(frozen=True)
class LeadAlert:
    """The staff alert a new lead raises: `kind`, its idempotency `key`, `payload` and `recipient` team."""

    kind: str
    key: str
    payload: dict[str, Any]
    recipient: str


def create_lead(
    session: Session,
    now: datetime,
    customer_id: int | None,
    kind: str,
    vehicle_id: int | None,
    details: dict[str, Any],
    channel_identity_id: int | None = None,
) -> Lead:
    """A new lead for staff: a known customer's, or (customer_id None) only a channel identity's."""
    lead = Lead(
        kind=kind,
        customer_id=customer_id,
        channel_identity_id=channel_identity_id,
        vehicle_id=vehicle_id,
        details=details,
        status="new",
        created_at=now,
    )
    session.add(lead)
    session.flush()
    log.info("lead_created", kind=kind, lead_id=lead.id, known_customer=customer_id is not None)
    return lead


def alert_of(lead: Lead) -> LeadAlert:
    """The staff alert for a new lead, sent to the team of its kind once (keyed by the lead)."""
    return LeadAlert(
        kind="lead_new",
        key=f"lead:{lead.id}",
        payload={
            "lead_id": lead.id,
            "kind": lead.kind,
            "customer_id": lead.customer_id,
            "channel_identity_id": lead.channel_identity_id,
            "vehicle_id": lead.vehicle_id,
            "details": lead.details,
        },
        recipient=team_of(lead.kind),
    )
