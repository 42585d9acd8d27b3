"""A car's odometer history and new readings: no conversation needed (a scheduler or console can call these)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.mileage.rules import Check, judge
from db.models import MileageReading, ServiceRecord, Vehicle
from dealerbot.logging import get_logger

log = get_logger("actions.mileage")


def odometer_points(session: Session, vehicle: Vehicle, tz: ZoneInfo) -> list[tuple[date, int]]:
    """Every known odometer value of the car with its local date: readings and service records, by date."""
    points = [
        (r.recorded_at.astimezone(tz).date(), r.reading_km)
        for r in session.scalars(select(MileageReading).where(MileageReading.vehicle_id == vehicle.id))
    ]
    points += [
        (r.service_date, r.mileage_km)
        for r in session.scalars(select(ServiceRecord).where(ServiceRecord.vehicle_id == vehicle.id))
        if r.mileage_km is not None
    ]
    return sorted(points)


def check_reading(session: Session, vehicle: Vehicle, km: int, today: date, tz: ZoneInfo) -> Check:
    """Whether a new reading of the car makes sense (actions.mileage.rules.judge)."""
    return judge(odometer_points(session, vehicle, tz), km, today, vehicle.year)


def record_reading(session: Session, now: datetime, vehicle: Vehicle, km: int, source: str = "customer") -> MileageReading:
    """Store a reading (already checked, or confirmed by the customer)."""
    reading = MileageReading(vehicle_id=vehicle.id, reading_km=km, recorded_at=now, source=source)
    session.add(reading)
    vehicle.updated_at = now
    session.flush()
    log.info("mileage_recorded", vehicle_id=vehicle.id)
    return reading


def latest_km(session: Session, vehicle_id: int) -> int | None:
    """The vehicle's last odometer reading, None without one."""
    return session.scalar(
        select(MileageReading.reading_km)
        .where(MileageReading.vehicle_id == vehicle_id)
        .order_by(MileageReading.recorded_at.desc(), MileageReading.id.desc())
        .limit(1)
    )
