"""Small factories for the fast tier: a customer, a car, an appointment in a few words.

They write to the session they are given (flushed, not committed) with defaults that satisfy every
constraint, so a test states only what matters to it:

    customer = make_customer(s, now, phone="+971501112233", language="ar")
    car = make_vehicle(s, now, customer, model="Patrol", make="Nissan")
    booked = make_appointment(s, now, car, branch="dubai", starts_at=now + timedelta(days=2))
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Appointment, Branch, Customer, ServiceType, Vehicle

_VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # a VIN has no I, O or Q
_numbers = itertools.count(1)


def _unique_vin() -> str:
    value = uuid.uuid4().int
    chars = []
    for _ in range(17):
        value, index = divmod(value, len(_VIN_ALPHABET))
        chars.append(_VIN_ALPHABET[index])
    return "".join(chars)


def make_customer(
    session: Session,
    now: datetime,
    *,
    phone: str | None = None,
    name: str = "Test Customer",
    language: str = "en",
    **fields: object,
) -> Customer:
    """A customer with a unique UAE mobile number unless `phone` is given; consents as the model's defaults."""
    customer = Customer(
        phone=phone or f"+9715080{next(_numbers) % 100000:05d}",
        name=name,
        preferred_language=language,
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(customer)
    session.flush()
    return customer


def make_vehicle(
    session: Session,
    now: datetime,
    owner: Customer | None,
    *,
    make: str = "Toyota",
    model: str = "Corolla",
    year: int = 2021,
    plate: str | None = None,
    vin: str | None = None,
    **fields: object,
) -> Vehicle:
    """A car of `owner` (or unowned) with a unique VIN."""
    vehicle = Vehicle(
        vin=vin or _unique_vin(),
        plate=plate,
        make=make,
        model=model,
        year=year,
        customer_id=owner.id if owner is not None else None,
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(vehicle)
    session.flush()
    return vehicle


def make_appointment(
    session: Session,
    now: datetime,
    vehicle: Vehicle,
    *,
    starts_at: datetime,
    branch: str = "dubai",
    service: str = "oil_change",
    status: str = "booked",
    **fields: object,
) -> Appointment:
    """A booking of `vehicle`'s owner at a branch and service of the demo data (by code), without a bay:
    for tests of what is done with appointments, not of the slot finder."""
    branch_row = session.scalars(select(Branch).where(Branch.code == branch)).one()
    service_row = session.scalars(select(ServiceType).where(ServiceType.code == service)).one()
    assert vehicle.customer_id is not None, "an appointment is for a customer's car"
    appointment = Appointment(
        reference=f"BK-T{next(_numbers) % 100000:05d}",
        customer_id=vehicle.customer_id,
        vehicle_id=vehicle.id,
        service_type_id=service_row.id,
        branch_id=branch_row.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=service_row.duration_minutes),
        status=status,
        price_aed=Decimal(service_row.price_aed),
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(appointment)
    session.flush()
    return appointment
