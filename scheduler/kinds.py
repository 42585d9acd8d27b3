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
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.consent.rules import MESSAGE_KINDS
from actions.kit import formats
from actions.kit.catalog import text
from actions.kit.types import Option, Reply
from actions.kit.vehicles import label as vehicle_label
from actions.complaints.rules import FINISHED_STATUSES
from actions.complaints.service import next_deadline
from actions.recalls.service import open_recalls
from db.models import (
    Appointment,
    Branch,
    CaseNote,
    Complaint,
    Customer,
    Feedback,
    OutboxMessage,
    Recall,
    ServiceType,
    StockVehicle,
    UpgradeWish,
    Vehicle,
    Warranty,
    WarrantyClaim,
    WarrantyTier,
    WorkItem,
)


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
    # Held through the quiet hours (unless QUIET_HOURS_PASS names it); False: sent at once.
    keeps_quiet_hours: bool = True


def _option(intent: str, key: str, language: str, **hints: object) -> Option:
    query = urlencode({k: v for k, v in hints.items() if v is not None})  # read back by split_intent_option
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


def recall_notice(ctx: Context) -> Message | None:
    vehicle = _vehicle(ctx)
    recall = ctx.session.get(Recall, ctx.row.payload.get("recall_id"))
    if vehicle is None or recall is None or recall not in open_recalls(ctx.session, vehicle):
        return None  # done since, or the campaign withdrawn
    lang = ctx.language
    ar = lang == "ar"
    said = text("pro_recall", lang, vehicle=vehicle_label(vehicle), title=recall.title_ar if ar else recall.title_en,
                description=recall.description_ar if ar else recall.description_en,
                remedy=recall.remedy_ar if ar else recall.remedy_en)
    body = f"{text('pro_greeting', lang, name=_first_name(ctx.customer))} {said}\n{text('pro_recall_book', lang)}"
    options = [_option("book_service", "pro_recall_book_option", lang, vehicle=vehicle.id, recall=recall.id)]
    variables = {"1": _first_name(ctx.customer), "2": vehicle_label(vehicle),
                 "3": recall.title_ar if ar else recall.title_en, "4": recall.remedy_ar if ar else recall.remedy_en}
    return Message(Reply(body, options), variables)


def feedback_survey(ctx: Context) -> Message | None:
    appointment = ctx.session.get(Appointment, ctx.row.payload.get("appointment_id"))
    if appointment is None or appointment.status != "completed" or appointment.customer_id != ctx.customer.id:
        return None
    rated = ctx.session.scalar(select(Feedback.id).where(Feedback.appointment_id == appointment.id))
    if rated is not None:
        return None  # rated in chat meanwhile
    lang = ctx.language
    service = ctx.session.get(ServiceType, appointment.service_type_id)
    branch = ctx.session.get(Branch, appointment.branch_id)
    assert service is not None and branch is not None
    values = {"service": service.name_ar if lang == "ar" else service.name_en,
              "branch": branch.name_ar if lang == "ar" else branch.name_en,
              "date": formats.day(appointment.starts_at.astimezone(ctx.tz).date(), lang)}
    body = f"{text('pro_greeting', lang, name=_first_name(ctx.customer))} {text('pro_survey', lang, **values)}"
    options = [_option("feedback", f"feedback_rating_{n}", lang, rating=n, appointment=appointment.id)
               for n in range(5, 0, -1)]
    return Message(Reply(body, options), {"1": _first_name(ctx.customer), "2": values["service"],
                                          "3": values["branch"], "4": values["date"]})


def stock_alert(ctx: Context) -> Message | None:
    wish = ctx.session.get(UpgradeWish, ctx.row.payload.get("wish_id"))
    car = ctx.session.get(StockVehicle, ctx.row.payload.get("stock_id"))
    if wish is None or not wish.active or wish.customer_id != ctx.customer.id or car is None or car.status != "available":
        return None  # the wish was dropped, or the car sold or reserved meanwhile
    lang = ctx.language
    branch = ctx.session.get(Branch, car.branch_id)
    assert branch is not None
    values = {"car": f"{car.make} {car.model} {car.year}", "km": formats.number(car.mileage_km, lang),
              "price": formats.money(car.price_aed, lang), "branch": branch.name_ar if lang == "ar" else branch.name_en}
    body = f"{text('pro_greeting', lang, name=_first_name(ctx.customer))} {text('pro_stock', lang, **values)}"
    options = [_option("trade_in", "pro_stock_value", lang),
               _option("human_agent", "pro_talk_to_advisor", lang)]
    return Message(Reply(body, options), {"1": _first_name(ctx.customer), "2": values["car"], "3": values["price"],
                                          "4": values["branch"]})


def case_progress(ctx: Context) -> Message | None:
    ticket = str(ctx.row.payload.get("ticket", ""))
    number = ticket.split("-", 1)[-1]
    case: Complaint | WarrantyClaim | None
    if ticket.startswith("WC-"):
        case = ctx.session.get(WarrantyClaim, int(number)) if number.isdigit() else None
    else:
        case = ctx.session.get(Complaint, int(number)) if number.isdigit() else None
    if case is None or case.customer_id != ctx.customer.id or getattr(case, "status", None) in FINISHED_STATUSES:
        return None
    what, _due = next_deadline(case)
    if what is None:
        return None  # answered or resolved meanwhile
    lang = ctx.language
    said = text(f"pro_case_late_{ctx.row.payload.get('deadline', what)}", lang, ticket=ticket)
    body = f"{text('pro_greeting', lang, name=_first_name(ctx.customer))} {said}\n{text('pro_case_escalated', lang)}"
    options = [_option("case_status", "pro_case_status", lang, ticket=ticket),
               _option("human_agent", "pro_talk_to_advisor", lang)]
    return Message(Reply(body, options), {"1": _first_name(ctx.customer), "2": ticket})


def staff_reply(ctx: Context) -> Message | None:
    """An advisor's answer on a case, written in the console (actions.complaints.casework.answer)."""
    note = ctx.session.get(CaseNote, ctx.row.payload.get("note_id"))
    ticket = str(ctx.row.payload.get("ticket", ""))
    if note is None or not note.visible_to_customer:
        return None
    lang = ctx.language
    body = f"{text('pro_staff_reply', lang, ticket=ticket)}\n{note.body}"
    options = [_option("case_status", "pro_case_status", lang, ticket=ticket),
               _option("human_agent", "pro_talk_to_advisor", lang)]
    return Message(Reply(body, options), {"1": _first_name(ctx.customer), "2": ticket, "3": note.body[:900]})


def work_approval(ctx: Context) -> Message | None:
    """Work found during a visit, for the customer to approve or decline (actions.appointments.work)."""
    item = ctx.session.get(WorkItem, ctx.row.payload.get("item_id"))
    appointment = ctx.session.get(Appointment, item.appointment_id) if item is not None else None
    if item is None or item.status != "pending" or appointment is None or appointment.customer_id != ctx.customer.id:
        return None
    vehicle = ctx.session.get(Vehicle, appointment.vehicle_id)
    lang = ctx.language
    car, price = vehicle_label(vehicle) if vehicle is not None else "", formats.money(item.price_aed, lang)
    body = f"{text('pro_greeting', lang, name=_first_name(ctx.customer))} " + text(
        "pro_work_found", lang, vehicle=car, work=item.description, price=price)
    options = [_option("work_approval", "pro_work_approve", lang, item=item.id, answer="yes"),
               _option("work_approval", "pro_work_decline", lang, item=item.id, answer="no")]
    return Message(Reply(body, options), {"1": _first_name(ctx.customer), "2": car, "3": item.description, "4": price})


def consent_of(kind: str) -> str | None:
    """The consent (actions.consent.rules.MESSAGE_KINDS) a message kind needs; None: none needed."""
    return next((consent for consent, kinds in MESSAGE_KINDS.items() if kind in kinds), None)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("service_due", consent_of("service_due"), service_due),
        Kind("appointment_reminder", consent_of("appointment_reminder"), appointment_reminder),
        Kind("warranty_expiry", consent_of("warranty_expiry"), warranty_expiry),
        # Safety information: QUIET_HOURS_PASS=["recall_notice"] lets it through quiet hours.
        Kind("recall_notice", consent_of("recall_notice"), recall_notice),
        Kind("feedback_survey", consent_of("feedback_survey"), feedback_survey),
        # Asked for: the customer saved the wish in chat ("tell me when a Patrol comes in"); dropping the
        # wish stops them.
        Kind("stock_alert", None, stock_alert),
        # About the customer's own open case: no consent needed.
        Kind("case_progress", None, case_progress),
        # An advisor's answer, sent deliberately from the console: not held for the quiet hours.
        Kind("staff_reply", None, staff_reply, keeps_quiet_hours=False),
        # The car is on the lift and the advisor waits for the answer: not held either.
        Kind("work_approval", None, work_approval, keeps_quiet_hours=False),
    )
}
