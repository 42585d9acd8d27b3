"""The next service of a car from the database, and its wording: no conversation needed, so a scheduler
reminder job can call `next_service` and `due_message` as the chat does."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.kit import formats, vehicles
from actions.kit.catalog import text
from actions.maintenance.rules import STALE_READING_DAYS, Due, base_of, best_plan, due, short
from actions.mileage.service import odometer_points
from db.models import InspectionReport, MaintenancePlan, ServiceRecord, Vehicle


def plan_for(session: Session, vehicle: Vehicle) -> tuple[int, int]:
    """(interval km, interval months) of the car: the most specific maintenance plan row, else the default."""
    plans = session.scalars(select(MaintenancePlan).order_by(MaintenancePlan.id))
    return best_plan(((p.make, p.model, p.interval_km, p.interval_months) for p in plans), vehicle.make, vehicle.model)


def next_service(session: Session, vehicle: Vehicle, today: date, tz: ZoneInfo) -> Due:
    """When the car's next service is due, by date and by km (actions.maintenance.rules); `today` is the
    local date (`now.astimezone(tz).date()`)."""
    records = session.scalars(select(ServiceRecord).where(ServiceRecord.vehicle_id == vehicle.id))
    points = odometer_points(session, vehicle, tz)
    last, base_date, base_km = base_of(records, points, vehicle.purchase_date, vehicle.created_at.astimezone(tz).date())
    if base_km is None and last is None:  # no odometer value at all: the pre-delivery inspection's
        report = session.scalar(
            select(InspectionReport).where(InspectionReport.vehicle_id == vehicle.id).order_by(InspectionReport.id)
        )
        base_km = report.mileage_km if report is not None else None
    return due(vehicle, plan_for(session, vehicle), last, base_date, base_km, points, today)


def due_message(due: Due, language: str, with_history: bool = True, said_km: int | None = None) -> list[str]:
    """The lines telling the next service: due date and km, where the car stands, (with_history) the last
    service and the latest mileage, and whether to book now. `said_km`: a km the customer asked about."""
    def t(key: str, **values: object) -> str:
        return text(key, language, **values)

    def day(on: date) -> str:
        return formats.day(on, language)

    km = formats.number
    common = dict(vehicle=vehicles.label(due.vehicle), due_date=day(due.due_date), months=due.interval_months,
                  interval=km(due.interval_km))
    if due.due_km is not None:
        lines = [t("veh_due_next", **common, due_km=km(due.due_km))]
    else:
        lines = [t("veh_due_next_date", **common)]
    if said_km is not None and due.due_km is not None:
        key = "veh_due_at_km_left" if said_km < due.due_km else "veh_due_at_km_over"
        lines.append(t(key, km=km(said_km), left=km(abs(due.due_km - said_km))))
    km_left = due.km_left
    if due.days_left < 0:
        lines.append(t("veh_due_overdue_date", count=-due.days_left))
    if km_left is not None and km_left <= 0:
        lines.append(t("veh_due_overdue_km", km=km(due.latest_km or 0), over=km(-km_left)))
    passed = due.probably_passed  # then only the days are told, and today's reading is asked for
    if not due.overdue:
        if due.days_left == 0:
            lines.append(t("veh_due_today"))
        elif km_left is not None and not passed:
            lines.append(t("veh_due_left", count=due.days_left, km_left=km(km_left)))
        else:
            lines.append(t("veh_due_left_days", count=due.days_left))
        if due.estimate and due.km_per_day and due.km_reached_on is not None:
            per_month = km(int(round(due.km_per_day * 30.4, -2)))
            if passed:
                lines.append(t("veh_due_estimate_passed", per_month=per_month, due_km=km(due.due_km or 0)))
            else:
                lines.append(t("veh_due_estimate", per_month=per_month, due_km=km(due.due_km or 0),
                               when=day(due.km_reached_on)))
    if with_history:
        last = due.last_service
        if last is not None:
            values = dict(date=day(last.service_date), work=short(last.work))
            if last.mileage_km is not None:
                lines.append(t("veh_last_service", km=km(last.mileage_km), **values))
            else:
                lines.append(t("veh_last_service_no_km", **values))
        else:
            lines.append(t("veh_no_service_since_purchase", date=day(due.base_date)))
        if due.latest_km is not None and due.latest_on is not None:
            stale = (due.today - due.latest_on).days > STALE_READING_DAYS and not (passed and not due.overdue)
            lines.append(t("veh_latest_mileage_old" if stale else "veh_latest_mileage",
                           km=km(due.latest_km), date=day(due.latest_on)))
        else:
            lines.append(t("veh_no_mileage"))
    if due.overdue:
        lines.append(t("veh_due_book_now"))
    elif due.soon:
        lines.append(t("veh_due_soon"))
    return lines
