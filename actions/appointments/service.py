"""Appointments' reads and writes, for the chat, a scheduler job or a staff console alike: no Turn.

Two customers never get the last slot twice: `book` and `move` lock the branch row (SELECT ... FOR UPDATE
on PostgreSQL; on SQLite a write to the row takes the database's single writer lock) and ask the slot
finder again before writing, so the second of two concurrent bookings sees the first and raises
`SlotTaken`. Cancelling frees the bay, the mobile team and the courtesy car at once (capacity counts
booked rows only).
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actions.appointments import rules, slots
from actions.appointments.slots import Need
from db.models import Appointment, Branch, PackageSubscription, ServicePackage, ServiceType, Vehicle
from dealerbot.logging import get_logger

log = get_logger("actions.appointments")

REFERENCE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no 0/O, 1/I, 2/Z, 5/S, 8/B look-alikes


class SlotTaken(Exception):
    """The time was free when offered but someone else booked it first."""


# --- lookups -------------------------------------------------------------------------------------------


def services(session: Session) -> list[ServiceType]:
    """The services a customer chooses from (a recall's repair is booked from the recall instead)."""
    return list(session.scalars(
        select(ServiceType).where(ServiceType.active.is_(True), ServiceType.bookable.is_(True)).order_by(ServiceType.id)
    ))


def service_by_code(session: Session, code: str | None) -> ServiceType | None:
    if not code:
        return None
    return session.scalar(select(ServiceType).where(ServiceType.code == code, ServiceType.active.is_(True)))


def branches(session: Session) -> list[Branch]:
    return list(session.scalars(select(Branch).order_by(Branch.id)))


def branch_by_code(session: Session, code: str | None) -> Branch | None:
    if not code:
        return None
    return session.scalar(select(Branch).where(Branch.code == code))


def own_vehicle(session: Session, customer_id: int, vehicle_id: int | None) -> Vehicle | None:
    """The vehicle if it is the customer's own, else None."""
    if vehicle_id is None:
        return None
    vehicle = session.get(Vehicle, vehicle_id)
    return vehicle if vehicle is not None and vehicle.customer_id == customer_id else None


def active_plan(session: Session, vehicle_id: int, on: date) -> ServicePackage | None:
    """The vehicle's service package in force on that day, if any (the best discount if several)."""
    packages = session.scalars(
        select(ServicePackage).join(PackageSubscription, PackageSubscription.package_id == ServicePackage.id).where(
            PackageSubscription.vehicle_id == vehicle_id,
            PackageSubscription.start_date <= on,
            PackageSubscription.end_date >= on,
        )
    ).all()
    return max(packages, key=lambda p: p.discount_percent, default=None)


def need_for(session: Session, on: date, branch: Branch, service: ServiceType, vehicle_id: int,
             extras: dict[str, Any], exclude_id: int | None = None) -> Need:
    """What a booking of `service` for the vehicle needs from the branch (priority if the vehicle's plan,
    in force on day `on`, books with priority)."""
    plan = active_plan(session, vehicle_id, on)
    return Need.for_service(
        branch.id, service,
        mobile=bool(extras.get("mobile")),
        courtesy_car=bool(extras.get("courtesy")),
        priority=bool(plan and plan.priority_booking),
        exclude_id=exclude_id,
    )


def extras_offered(session: Session, branch: Branch, service: ServiceType, at: datetime,
                   chosen: dict[str, Any]) -> dict[str, int]:
    """The extras still on offer at `at` (rules.extras_offered), each with the courtesy cars left."""
    left = slots.courtesy_cars_left(session, branch, at, Need.for_service(branch.id, service).duration)
    return {name: left for name in rules.extras_offered(chosen, service, branch, left)}


# --- the customer's own appointments ---------------------------------------------------------------------


def upcoming(session: Session, now: datetime, customer_id: int) -> list[Appointment]:
    """The customer's own future appointments that are still booked, soonest first."""
    return list(
        session.scalars(
            select(Appointment)
            .where(Appointment.customer_id == customer_id, Appointment.status == "booked",
                   Appointment.starts_at > now)
            .order_by(Appointment.starts_at)
        )
    )


def own_appointment(session: Session, now: datetime, customer_id: int, reference: str | None) -> Appointment | None:
    """One of the customer's upcoming appointments by its reference; someone else's is None like an unknown one."""
    if not reference:
        return None
    return next((a for a in upcoming(session, now, customer_id) if a.reference.upper() == reference.upper()), None)


def parts(session: Session, appointment: Appointment) -> tuple[Branch, ServiceType, dict[str, Any]]:
    """An appointment's branch, service and the extras that decide where it fits (to move it)."""
    branch = session.get(Branch, appointment.branch_id)
    service = session.get(ServiceType, appointment.service_type_id)
    assert branch is not None and service is not None
    return branch, service, {"mobile": appointment.mobile_service, "courtesy": appointment.courtesy_car}


# --- writing -----------------------------------------------------------------------------------------


def _lock_branch(session: Session, branch_id: int) -> Branch:
    """Serialise bookings of one branch until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        branch = session.scalars(
            select(Branch).where(Branch.id == branch_id).with_for_update().execution_options(populate_existing=True)
        ).one()
    else:  # SQLite: any write takes the single writer lock, so later reads see every committed booking
        session.execute(update(Branch).where(Branch.id == branch_id).values(courtesy_cars=Branch.courtesy_cars))
        branch = session.get(Branch, branch_id, populate_existing=True)
        assert branch is not None
    return branch


def new_reference(session: Session) -> str:
    while True:
        reference = "BK-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if session.scalar(select(Appointment.id).where(Appointment.reference == reference)) is None:
            return reference


def book(session: Session, *, customer_id: int, vehicle_id: int, service: ServiceType, need: Need,
         at: datetime, now: datetime, price: Decimal, discount_aed: Decimal, pickup_dropoff: bool = False,
         express_lane: bool = False, service_address: str | None = None) -> Appointment:
    """Book `at` if it is still free (checked under the branch lock), else raise SlotTaken."""
    branch = _lock_branch(session, need.branch_id)
    fit = slots.place(session, branch, replace(need, exclude_id=None), at, now)
    if not fit or at < now:
        log.info("slot_taken", branch=branch.code, starts_at=at.isoformat())
        raise SlotTaken(at.isoformat())
    appointment = Appointment(
        reference=new_reference(session),
        customer_id=customer_id,
        vehicle_id=vehicle_id,
        service_type_id=service.id,
        branch_id=branch.id,
        bay_id=None if need.mobile else fit.id,  # type: ignore[union-attr]
        starts_at=at,
        ends_at=at + need.duration,
        status="booked",
        courtesy_car=need.courtesy_car,
        pickup_dropoff=pickup_dropoff,
        mobile_service=need.mobile,
        express_lane=express_lane,
        service_address=service_address,
        price_aed=price,
        discount_aed=discount_aed,
        created_at=now,
        updated_at=now,
    )
    session.add(appointment)
    session.flush()
    log.info("appointment_booked", branch=branch.code, appointment_id=appointment.id)
    return appointment


def book_for(session: Session, now: datetime, on: date, *, customer_id: int, vehicle_id: int,
             service: ServiceType, branch: Branch, at: datetime, extras: dict[str, Any]) -> Appointment:
    """Book a service with its extras at the price of the day, less the vehicle's plan discount on the
    appointment's day (`on`: today, local, which decides priority); SlotTaken if `at` is gone."""
    need = need_for(session, on, branch, service, vehicle_id, extras)
    cut = rules.discount(service.price_aed, active_plan(session, vehicle_id, at.date()))
    return book(
        session, customer_id=customer_id, vehicle_id=vehicle_id, service=service, need=need, at=at, now=now,
        price=service.price_aed, discount_aed=cut, pickup_dropoff=bool(extras.get("pickup")),
        express_lane=bool(extras.get("express")),
        service_address=extras.get("address") if extras.get("mobile") or extras.get("pickup") else None,
    )


def move(session: Session, appointment: Appointment, need: Need, at: datetime, now: datetime) -> Appointment:
    """Move a booked appointment to `at` if that is still free (under the branch lock), else SlotTaken."""
    branch = _lock_branch(session, need.branch_id)
    fit = slots.place(session, branch, replace(need, exclude_id=appointment.id), at, now)
    if not fit or at < now:
        raise SlotTaken(at.isoformat())
    appointment.starts_at = at
    appointment.ends_at = at + need.duration
    appointment.bay_id = None if need.mobile else fit.id  # type: ignore[union-attr]
    appointment.updated_at = now
    session.flush()
    log.info("appointment_moved", branch=branch.code, appointment_id=appointment.id)
    return appointment


def cancel(session: Session, appointment: Appointment, now: datetime) -> None:
    """Cancel: the bay, the mobile team and any courtesy car are free again for others at once."""
    appointment.status = "cancelled"
    appointment.cancelled_at = now
    appointment.updated_at = now
    session.flush()
    log.info("appointment_cancelled", appointment_id=appointment.id)


class VisitError(ValueError):
    """A visit that cannot be marked so (the message says why, for the staff member)."""


def mark_arrived(appointment: Appointment, now: datetime) -> None:
    """The car is at the branch (the staff console)."""
    if appointment.status != "booked":
        raise VisitError(f"{appointment.reference} is {appointment.status}, not booked")
    appointment.arrived_at = appointment.arrived_at or now


def mark_completed(appointment: Appointment, now: datetime) -> None:
    """The visit is done (the staff console); the feedback survey follows (scheduler.scans_more)."""
    if appointment.status != "booked":
        raise VisitError(f"{appointment.reference} is {appointment.status}, not booked")
    appointment.status = "completed"
    appointment.arrived_at = appointment.arrived_at or now
    appointment.completed_at = now
