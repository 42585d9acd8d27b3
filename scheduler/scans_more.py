"""The scans of recalls, feedback surveys, stock alerts and case deadlines (see scheduler.scans)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from actions.complaints.service import escalate_overdue, overdue_cases
from actions.kit.alerts import alert_staff
from dealerbot.settings import Settings
from db.models import (
    Appointment,
    Complaint,
    Customer,
    Feedback,
    Recall,
    RecallCompletion,
    StockVehicle,
    UpgradeWish,
    Vehicle,
    WarrantyClaim,
)
from scheduler.outbox import Pending, key
from scheduler.scans import Due, ScanResult, _allowed, _chunks, _write

# Feedback surveys: not for a visit longer ago than this when the scan first sees it (after an outage,
# a survey about last month's service is noise).
SURVEY_WITHIN = timedelta(days=3)


def scan_recalls(session: Session, now: datetime, settings: Settings) -> ScanResult:
    """Every owner of a car an active recall applies to, told once per car and recall (a recall added or
    imported is picked up by the next scan); a car whose remedy is done is not told."""
    result = ScanResult()
    for recall in session.scalars(select(Recall).where(Recall.active.is_(True)).order_by(Recall.id)).all():
        query = (
            select(Vehicle, Customer)
            .join(Customer, Vehicle.customer_id == Customer.id)
            .where(~exists().where(RecallCompletion.recall_id == recall.id, RecallCompletion.vehicle_id == Vehicle.id))
        )
        if recall.vins:
            query = query.where(func.upper(Vehicle.vin).in_([v.strip().upper() for v in recall.vins]))
        else:
            query = query.where(func.lower(Vehicle.make) == recall.make.lower(),
                                Vehicle.year.between(recall.year_from, recall.year_to))
            if recall.model is not None:
                query = query.where(func.lower(Vehicle.model) == recall.model.lower())
        recall_id = recall.id
        for rows in _chunks(session, query, Vehicle.id):
            found = []
            for vehicle, customer in rows:
                payload = {"recall_id": recall_id, "vehicle_id": vehicle.id}
                message = Pending(key("recall_notice", f"vehicle-{vehicle.id}", f"recall-{recall_id}", "notice"),
                                  "recall_notice", customer.id, payload, now)
                found.append(Due(message, _allowed(customer, "recall_notice")))
            _write(session, now, found, result)
            session.expunge_all()
    return result


def scan_feedback_surveys(session: Session, now: datetime, settings: Settings) -> ScanResult:
    """A survey FEEDBACK_SURVEY_DELAY_HOURS after a completed visit (when staff marked it done, else its
    planned end), unless the customer rated it already."""
    result = ScanResult()
    delay = timedelta(hours=settings.feedback_survey_delay_hours)
    finished = func.coalesce(Appointment.completed_at, Appointment.ends_at)  # marked done in the console, else planned
    query = (
        select(Appointment, Customer)
        .join(Customer, Appointment.customer_id == Customer.id)
        .where(
            Appointment.status == "completed",
            finished <= now - delay,
            finished > now - delay - SURVEY_WITHIN,
            ~exists().where(Feedback.appointment_id == Appointment.id),
        )
    )
    for rows in _chunks(session, query, Appointment.id):
        found = []
        for appointment, customer in rows:
            message = Pending(key("feedback_survey", f"appointment-{appointment.id}", appointment.ends_at, "survey"),
                              "feedback_survey", customer.id, {"appointment_id": appointment.id}, now)
            found.append(Due(message, _allowed(customer, "feedback_survey")))
        _write(session, now, found, result)
        session.expunge_all()
    return result


def scan_stock_alerts(session: Session, now: datetime, settings: Settings) -> ScanResult:
    """An available stock car that arrived since an active upgrade wish was saved and fits it."""
    result = ScanResult()
    wishes = session.execute(
        select(UpgradeWish, Customer).join(Customer, UpgradeWish.customer_id == Customer.id)
        .where(UpgradeWish.active.is_(True)).order_by(UpgradeWish.id)
    ).all()
    found = []
    for wish, customer in wishes:
        query = select(StockVehicle.id).where(
            StockVehicle.status == "available",
            StockVehicle.arrived_on >= wish.created_at.astimezone(settings.tz).date(),
        )
        for column, value in ((StockVehicle.make, wish.make), (StockVehicle.model, wish.model)):
            if value:
                query = query.where(column == value)
        if wish.min_year:
            query = query.where(StockVehicle.year >= wish.min_year)
        if wish.max_budget_aed is not None:
            query = query.where(StockVehicle.price_aed <= wish.max_budget_aed)
        for stock_id in session.scalars(query.order_by(StockVehicle.id)):
            message = Pending(key("stock_alert", f"wish-{wish.id}", f"stock-{stock_id}", "alert"), "stock_alert",
                              customer.id, {"wish_id": wish.id, "stock_id": stock_id}, now)
            found.append(Due(message, _allowed(customer, "stock_alert")))
    _write(session, now, found, result)
    return result


def scan_case_deadlines(session: Session, now: datetime, settings: Settings) -> ScanResult:
    """Complaints and warranty claims past a deadline (acknowledge, answer, resolve): each breach raises
    the case's escalation level once, alerts staff, and tells the customer where their case stands;
    staff are reminded once a day while it stays late (actions.complaints.escalate_overdue)."""
    result = ScanResult()
    late = overdue_cases(session, now)
    escalate_overdue(session, now, settings.tz, late)
    found = []
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_({x.customer_id for x in late})))}
    for case in late:
        breach = key("case_progress", case.ticket, case.due, case.deadline)
        customer = customers.get(case.customer_id)
        if customer is None:
            continue
        payload = {"ticket": case.ticket, "deadline": case.deadline, "due": case.due.isoformat()}
        found.append(Due(Pending(breach, "case_progress", customer.id, payload, now), True))
        if alert_staff(session, now, customer_id=customer.id, kind="case_breach", key=f"alert:{breach}",
                       payload={**payload, "urgent": True}, recipient="customer-care"):
            _escalate(session, case.ticket, now)
    _write(session, now, found, result)
    return result


def _escalate(session: Session, ticket: str, now: datetime) -> None:
    kind, _, number = ticket.partition("-")
    model = WarrantyClaim if kind == "WC" else Complaint
    case = session.get(model, int(number))
    if case is not None:
        case.escalation_level += 1
        case.escalated_at = now
