"""Warranty reads and writes, without a conversation (chat, a scheduler job or a staff console alike):
a vehicle's cover, the tiers on sale, claims (ticket WC-<n>) and requests for a warranty advisor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from actions.kit.alerts import alert_staff
from actions.warranty.rules import cover_ended, same_day_deadline
from dealerbot.logging import get_logger
from db.models import Lead, MileageReading, Vehicle, Warranty, WarrantyClaim, WarrantyTier

log = get_logger("actions.warranty")

# Claims that are finished: a case-status answer lists them only while recent.
FINISHED_CLAIM_STATUSES = ("closed", "rejected")


@dataclass
class Cover:
    """A vehicle's warranty that applies on a day (else its latest), its last odometer reading, and what
    ended the cover: None (active), "date" or "km"; "none" when there is no warranty."""

    vehicle: Vehicle
    warranty: Warranty | None
    reading_km: int | None
    reading_at: datetime | None
    ended: str | None

    @property
    def active(self) -> bool:
        return self.warranty is not None and self.ended is None


def cover_of(session: Session, vehicle: Vehicle, on: date) -> Cover:
    """The cover of `vehicle` on the local day `on`."""
    warranties = list(
        session.scalars(select(Warranty).where(Warranty.vehicle_id == vehicle.id).order_by(Warranty.end_date))
    )
    current = [w for w in warranties if w.start_date <= on <= w.end_date]
    warranty = current[-1] if current else (warranties[-1] if warranties else None)
    reading = session.scalar(
        select(MileageReading)
        .where(MileageReading.vehicle_id == vehicle.id)
        .order_by(MileageReading.recorded_at.desc(), MileageReading.id.desc())
        .limit(1)
    )
    km = reading.reading_km if reading else None
    read_at = reading.recorded_at if reading else None
    if warranty is None:
        return Cover(vehicle, None, km, read_at, "none")
    return Cover(vehicle, warranty, km, read_at, cover_ended(warranty.end_date, warranty.mileage_limit_km, on, km))


def tiers(session: Session) -> list[WarrantyTier]:
    """The tiers on sale, from the basic one up."""
    return list(session.scalars(select(WarrantyTier).order_by(WarrantyTier.rank)))


def better_tier(session: Session, cover: Cover, code: str) -> WarrantyTier | None:
    """The first tier above the vehicle's own that covers the component."""
    rank = cover.warranty.tier.rank if cover.warranty else 0
    return next((t for t in tiers(session) if t.rank > rank and code in t.covered_components), None)


def open_claim(
    session: Session,
    now: datetime,
    *,
    tz: tzinfo,
    customer_id: int,
    vehicle: Vehicle,
    warranty: Warranty,
    component: str,
    description: str,
    photos: list[str],
) -> WarrantyClaim:
    """Open claim WC-<n> with a same-day answer deadline, and alert the warranty desk."""
    respond_by = same_day_deadline(now, tz)
    claim = WarrantyClaim(
        customer_id=customer_id,
        vehicle_id=vehicle.id,
        warranty_id=warranty.id,
        component=component,
        description=description,
        photos=list(photos),
        status="open",
        respond_by=respond_by,
        created_at=now,
        updated_at=now,
    )
    session.add(claim)
    session.flush()
    alert_staff(
        session,
        now,
        customer_id=customer_id,
        kind="warranty_claim",
        key=f"alert:warranty_claim:{claim.id}",
        payload={
            "ticket": claim.ticket_id,
            "customer_id": customer_id,
            "vehicle_id": vehicle.id,
            "vehicle": f"{vehicle.make} {vehicle.model} {vehicle.year}",
            "contract": warranty.contract_number,
            "component": claim.component,
            "photos": len(claim.photos),
            "respond_by": respond_by.isoformat(),
            "urgent": True,
        },
        recipient="warranty-desk",
    )
    log.info("warranty_claim_opened", ticket=claim.ticket_id, photos=len(claim.photos))
    return claim


def request_advisor(
    session: Session, now: datetime, *, customer_id: int, identity_id: int | None, cover: Cover
) -> Lead:
    """A callback from a warranty advisor about extending or upgrading the cover: a lead, and an alert."""
    warranty = cover.warranty
    vehicle = cover.vehicle
    details: dict[str, Any] = {
        "topic": "warranty_extension_or_upgrade",
        "vehicle": f"{vehicle.make} {vehicle.model} {vehicle.year}",
        "contract": warranty.contract_number if warranty else None,
        "tier": warranty.tier.code if warranty else None,
        "ends_on": warranty.end_date.isoformat() if warranty else None,
        "ended": cover.ended,
    }
    lead = Lead(kind="callback", customer_id=customer_id, channel_identity_id=identity_id, vehicle_id=vehicle.id,
                details=details, status="new", created_at=now)
    session.add(lead)
    session.flush()
    alert_staff(session, now, customer_id=customer_id, kind="lead", key=f"alert:lead:{lead.id}",
                payload={"lead_id": lead.id, "kind": "callback", **details}, recipient="warranty-desk")
    log.info("warranty_advisor_requested", lead_id=lead.id)
    return lead


def claims_of(session: Session, customer_id: int, finished_since: datetime) -> list[WarrantyClaim]:
    """A customer's unfinished claims, and the finished ones changed since `finished_since`."""
    return list(
        session.scalars(
            select(WarrantyClaim).where(
                WarrantyClaim.customer_id == customer_id,
                or_(WarrantyClaim.status.not_in(FINISHED_CLAIM_STATUSES), WarrantyClaim.updated_at >= finished_since),
            )
        )
    )


def claim_of(session: Session, customer_id: int, number: int) -> WarrantyClaim | None:
    """Claim WC-<number> if it is this customer's."""
    return session.scalar(
        select(WarrantyClaim).where(WarrantyClaim.id == number, WarrantyClaim.customer_id == customer_id)
    )


def unanswered_claims(session: Session, now: datetime, customer_id: int | None = None) -> list[WarrantyClaim]:
    """Claims still waiting for our answer after their deadline (of one customer, or everyone's)."""
    query = select(WarrantyClaim).where(
        WarrantyClaim.status.in_(("open", "in_review")),
        WarrantyClaim.responded_at.is_(None),
        WarrantyClaim.respond_by < now,
    )
    if customer_id is not None:
        query = query.where(WarrantyClaim.customer_id == customer_id)
    return list(session.scalars(query.order_by(WarrantyClaim.respond_by)))
