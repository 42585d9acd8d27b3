"""The kinds of proactive message: which consent each needs, and its text, written when it is sent.

A row's payload holds ids and raw values (a date as ISO text), never finished text: the message is
written at send time in the customer's language of that moment, from the database as it is then (an
appointment moved since the scan is told as it is now; one cancelled is not told at all: `render` gives
None and the row is cancelled). Each kind also names the variables of its WhatsApp template (the
approved template's {{1}}, {{2}}, ... in that order), used outside the 24-hour window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.consent.rules import MESSAGE_KINDS
from actions.kit import formats
from actions.kit.catalog import text
from actions.kit.types import Option, Reply
from actions.kit.vehicles import label as vehicle_label
from db.models import Appointment, Branch, Customer, OutboxMessage, ServiceType, Vehicle, Warranty, WarrantyTier


@dataclass(frozen=True)
class Message:
    """What a proactive message says: the reply for free text, and its template's variables."""

    reply: Reply
    variables: dict[str, str]


@dataclass(frozen=True)
class Context:
    session: Session
    row: OutboxMessage
    customer: Customer
    language: str
    tz: tzinfo
    now: datetime


Render = Callable[[Context], Message | None]


@dataclass(frozen=True)
class Kind:
    name: str
    # Customer.consent_<consent>; None: a message about the customer's own open case, always allowed.
    consent: str | None
    render: Render
    # Safety information that may be let through quiet hours (QUIET_HOURS_PASS names such kinds).
    safety: bool = False


def _option(intent: str, key: str, language: str, **hints: object) -> Option:
    query = "&".join(f"{k}={v}" for k, v in hints.items() if v is not None)
    return Option(f"intent:{intent}" + (f"?{query}" if query else ""), text(key, language))


def _first_name(customer: Customer) -> str:
    return (customer.name or "").split(" ")[0] or customer.name


def _vehicle(ctx: Context) -> Vehicle | None:
    vehicle = ctx.session.get(Vehicle, ctx.row.payload.get("vehicle_id"))
    if vehicle is None or vehicle.customer_id != ctx.customer.id:
        return None  # sold or moved to another owner since the scan
    return vehicle


def service_due(ctx: Context) -> Message | None:
    vehicle = _vehicle(ctx)
    if vehicle is None:
        return None
    lang, payload = ctx.language, ctx.row.payload
    due_on = date.fromisoformat(payload["due_date"])
    today = ctx.now.astimezone(ctx.tz).date()
    car, when = vehicle_label(vehicle), formats.day(due_on, lang)
    km = formats.number(payload["due_km"], lang) if payload.get("due_km") else None
    if payload.get("by") == "km" and km:
        said = text("pro_service_overdue_km", lang, vehicle=car, due_km=km)
    elif due_on < today:
        said = text("pro_service_overdue", lang, vehicle=car, due_date=when)
    elif km:
        said = text("pro_service_due", lang, vehicle=car, due_date=when, due_km=km)
    else:
        said = text("pro_service_due_date", lang, vehicle=car, due_date=when)
    body = f"{text('pro_greeting', lang, name=_first_name(ctx.customer))} {said}\n{text('pro_service_book', lang)}"
    options = [
        _option("book_service", "pro_book_now", lang, vehicle=vehicle.id),
        _option("stop_notifications", "pro_stop_these", lang, kind="service_reminders"),
    ]
    return Message(Reply(body, options), {"1": _first_name(ctx.customer), "2": car, "3": when, "4": km or ""})


def appointment_reminder(ctx: Context) -> Message | None:
    appointment = ctx.session.get(Appointment, ctx.row.payload.get("appointment_id"))
    if appointment is None or appointment.status != "booked" or appointment.customer_id != ctx.customer.id:
        return None
    if appointment.starts_at.isoformat() != ctx.row.payload.get("starts_at"):
        return None  # moved since: the reminders of its new time are other rows
    lang = ctx.language
    vehicle = ctx.session.get(Vehicle, appointment.vehicle_id)
    branch = ctx.session.get(Branch, appointment.branch_id)
    service = ctx.session.get(ServiceType, appointment.service_type_id)
    assert vehicle is not None and branch is not None and service is not None
    values = {
        "service": service.name_ar if lang == "ar" else service.name_en,
        "vehicle": vehicle_label(vehicle),
        "branch": branch.name_ar if lang == "ar" else branch.name_en,
        "reference": appointment.reference,
    }
    local = appointment.starts_at.astimezone(ctx.tz)
    if ctx.row.payload.get("stage") == "day_before":
        said = text("pro_appointment_tomorrow", lang, when=formats.moment(appointment.starts_at, lang, ctx.tz, ctx.now), **values)
    else:
        said = text("pro_appointment_soon", lang, time=formats.clock(local), **values)
    body = f"{text('pro_greeting', lang, name=_first_name(ctx.customer))} {said}\n{text('pro_appointment_change', lang)}"
    options = [
        _option("reschedule_appointment", "pro_reschedule", lang, appointment=appointment.reference),
        _option("cancel_appointment", "pro_cancel", lang, appointment=appointment.reference),
    ]
    variables = {"1": _first_name(ctx.customer), "2": values["service"], "3": values["vehicle"], "4": values["branch"],
                 "5": f"{formats.day(local.date(), lang)} {formats.clock(local)}", "6": appointment.reference}
    return Message(Reply(body, options), variables)


def warranty_expiry(ctx: Context) -> Message | None:
    warranty = ctx.session.get(Warranty, ctx.row.payload.get("warranty_id"))
    if warranty is None:
        return None
    vehicle = ctx.session.get(Vehicle, warranty.vehicle_id)
    if vehicle is None or vehicle.customer_id != ctx.customer.id:
        return None
    today = ctx.now.astimezone(ctx.tz).date()
    if warranty.end_date < today:
        return None  # ended while the message waited (quiet hours, a long outage): an offer too late
    lang = ctx.language
    tier = ctx.session.get(WarrantyTier, warranty.tier_id)
    assert tier is not None
    tier_name = tier.name_ar if lang == "ar" else tier.name_en
    said = text("pro_warranty_ending", lang, count=(warranty.end_date - today).days, tier=tier_name,
                vehicle=vehicle_label(vehicle), end_date=formats.day(warranty.end_date, lang))
    lines = [f"{text('pro_greeting', lang, name=_first_name(ctx.customer))} {said}"]
    offers = ctx.session.scalars(select(WarrantyTier).where(WarrantyTier.rank >= tier.rank).order_by(WarrantyTier.rank)).all()
    if offers:
        listed = "; ".join(
            text("pro_warranty_tier", lang, tier=t.name_ar if lang == "ar" else t.name_en, months=t.duration_months,
                 km=formats.number(t.mileage_limit_km, lang), price=formats.money(t.price_aed, lang))
            for t in offers
        )
        lines.append(text("pro_warranty_tiers", lang, tiers=listed))
    options = [
        _option("warranty_coverage", "pro_warranty_extend", lang, vehicle=vehicle.id),
        _option("human_agent", "pro_talk_to_advisor", lang),
    ]
    variables = {"1": _first_name(ctx.customer), "2": tier_name, "3": vehicle_label(vehicle),
                 "4": formats.day(warranty.end_date, lang)}
    return Message(Reply("\n".join(lines), options), variables)


def consent_of(kind: str) -> str | None:
    """The consent (actions.consent.rules.MESSAGE_KINDS) a message kind needs; None: none needed."""
    return next((consent for consent, kinds in MESSAGE_KINDS.items() if kind in kinds), None)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("service_due", consent_of("service_due"), service_due),
        Kind("appointment_reminder", consent_of("appointment_reminder"), appointment_reminder),
        Kind("warranty_expiry", consent_of("warranty_expiry"), warranty_expiry),
    )
}
