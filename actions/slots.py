"""The availability engine: which start times really fit a branch, and booking one safely.

Capacity is the branch's active bays, and only lift bays for work that needs a lift; an appointment holds
one bay from its start to its end. Start times lie on a 30-minute grid inside one opening period of the
branch (BranchHours, Dubai time; split shifts are several periods), evenings and weekends included, and
the work must end before the period closes. Mobile service at the customer's place uses no bay but one
of the branch's mobile teams; a courtesy car is offered while the branch's cars last (its
`courtesy_cars` minus the booked appointments with a courtesy car overlapping the same time).

Customers on a maintenance plan (an active PackageSubscription of a package with priority booking) get
priority slots: at branches with three or more fitting bays, the last free bay of a time is kept for
them until 24 hours before it starts.

Two customers never get the last slot twice: `book` and `move` lock the branch row (SELECT ... FOR UPDATE
on PostgreSQL; on SQLite a write to the row takes the database's single writer lock) and count again
before writing, so the second of two concurrent bookings sees the first and raises `SlotTaken`.

The module is not an action handler module (it registers no intents); actions/appointments.py uses it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.when import When
from db.models import Appointment, Bay, Branch, BranchHours, PackageSubscription, ServicePackage, ServiceType
from dealerbot.logging import get_logger

log = get_logger("actions.slots")

GRID = timedelta(minutes=30)
LEAD_TIME = timedelta(hours=2)  # the earliest start offered: the workshop needs time to prepare
HORIZON = timedelta(days=21)  # how far ahead slots are searched
PRIORITY_HOLD = timedelta(hours=24)  # a bay kept for plan customers is released this long before
PRIORITY_MIN_BAYS = 3  # branches with fewer fitting bays keep none back
MOBILE_TEAMS = 2  # mobile technicians per branch that offers mobile service
REFERENCE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no 0/O, 1/I, 2/Z, 5/S, 8/B look-alikes


class SlotTaken(Exception):
    """The time was free when offered but someone else booked it first."""


@dataclass(frozen=True)
class Need:
    """What one booking needs from a branch."""

    branch_id: int
    duration: timedelta
    needs_lift: bool = False
    mobile: bool = False
    courtesy_car: bool = False
    priority: bool = False
    # An appointment being moved does not compete with itself.
    exclude_id: int | None = None

    @classmethod
    def for_service(cls, branch_id: int, service: ServiceType, **kw: object) -> Need:
        return cls(branch_id, timedelta(minutes=service.duration_minutes), service.needs_lift, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Busy:
    bay_id: int | None
    starts_at: datetime
    ends_at: datetime
    mobile: bool
    courtesy_car: bool


# --- reading the branch ----------------------------------------------------------------------------


def _bays(session: Session, need: Need) -> list[Bay]:
    """Active bays that fit the work, the ones without a lift first (keep lifts for work needing one)."""
    bays = session.scalars(select(Bay).where(Bay.branch_id == need.branch_id, Bay.active.is_(True))).all()
    fitting = [b for b in bays if b.has_lift or not need.needs_lift]
    return sorted(fitting, key=lambda b: (b.has_lift, len(b.name), b.name))


def _busy(session: Session, branch_id: int, start: datetime, end: datetime, exclude_id: int | None) -> list[_Busy]:
    """Booked appointments at the branch overlapping [start, end): plain values, never stale objects."""
    query = select(
        Appointment.bay_id, Appointment.starts_at, Appointment.ends_at, Appointment.mobile_service,
        Appointment.courtesy_car,
    ).where(
        Appointment.branch_id == branch_id,
        Appointment.status == "booked",
        Appointment.starts_at < end,
        Appointment.ends_at > start,
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    return [_Busy(*row) for row in session.execute(query)]


def _periods(session: Session, branch_id: int) -> dict[int, list[tuple[time, time]]]:
    periods: dict[int, list[tuple[time, time]]] = {}
    for hours in session.scalars(select(BranchHours).where(BranchHours.branch_id == branch_id)):
        periods.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
    return {day: sorted(spans) for day, spans in periods.items()}


def _starts(periods: dict[int, list[tuple[time, time]]], duration: timedelta, first: datetime,
            last: datetime, tz: ZoneInfo) -> Iterable[datetime]:
    """Local start times on the grid within opening periods, the work ending by the period's close."""
    day = first.astimezone(tz).date()
    while day <= last.astimezone(tz).date():
        for opens, closes in periods.get(day.weekday(), []):
            at = datetime.combine(day, opens, tz)
            close = datetime.combine(day, closes, tz)
            while at + duration <= close:
                if first <= at <= last:
                    yield at
                at += GRID
        day += timedelta(days=1)


def _fits(at: datetime, need: Need, busy: Sequence[_Busy], bays: Sequence[Bay], courtesy_cars: int,
          now: datetime) -> Bay | None | bool:
    """The bay to use at `at` (True for mobile service, which needs none), or None/False if it is full."""
    end = at + need.duration
    overlapping = [b for b in busy if b.starts_at < end and b.ends_at > at]
    if need.courtesy_car and sum(b.courtesy_car for b in overlapping) >= courtesy_cars:
        return None
    if need.mobile:
        return True if sum(b.mobile for b in overlapping) < MOBILE_TEAMS else None
    taken = {b.bay_id for b in overlapping}
    free = [bay for bay in bays if bay.id not in taken]
    if not free:
        return None
    held = not need.priority and len(bays) >= PRIORITY_MIN_BAYS and at - now > PRIORITY_HOLD
    if held and len(free) < 2:
        return None  # the last free bay is kept for customers on a maintenance plan
    return free[0]


# --- what customers are offered ----------------------------------------------------------------------


def courtesy_cars_left(session: Session, branch: Branch, start: datetime, duration: timedelta,
                       exclude_id: int | None = None) -> int:
    busy = _busy(session, branch.id, start, start + duration, exclude_id)
    return max(branch.courtesy_cars - sum(b.courtesy_car for b in busy), 0)


def is_free(session: Session, need: Need, at: datetime, now: datetime, tz: ZoneInfo) -> bool:
    """Whether local start time `at` is on the branch's grid, open, and still has room for `need`."""
    branch = session.get(Branch, need.branch_id)
    if branch is None or at < now:
        return False
    at = at.astimezone(tz)
    periods = _periods(session, need.branch_id)
    if at not in set(_starts(periods, need.duration, at, at, tz)):
        return False
    busy = _busy(session, need.branch_id, at, at + need.duration, need.exclude_id)
    return bool(_fits(at, need, busy, _bays(session, need), branch.courtesy_cars, now))


def find_slots(session: Session, need: Need, now: datetime, tz: ZoneInfo, when: When | None = None,
               limit: int = 5) -> tuple[list[datetime], bool]:
    """Up to `limit` free local start times, and whether they match `when` (False: the nearest others).

    Without `when`: the earliest free time of each of the next days. With a day or time window: the
    free times inside it (those nearest a specific time first); if none fits, the nearest free times.
    """
    branch = session.get(Branch, need.branch_id)
    if branch is None:
        return [], False
    first = _ceil(now + LEAD_TIME)
    last = now + HORIZON
    periods = _periods(session, need.branch_id)
    busy = _busy(session, need.branch_id, first, last + timedelta(days=1), need.exclude_id)
    bays = _bays(session, need)
    if not bays and not need.mobile:
        return [], False
    free = [at for at in _starts(periods, need.duration, first, last, tz)
            if _fits(at, need, busy, bays, branch.courtesy_cars, now)]
    if not free:
        return [], False
    if when is None or when.empty:
        per_day: dict[date, datetime] = {}
        for at in free:
            per_day.setdefault(at.date(), at)
        return sorted(per_day.values())[:limit], True

    def matches(at: datetime) -> bool:
        local = at.timetz().replace(tzinfo=None)
        if when.day is not None and at.date() != when.day:
            return False
        if when.exact and when.start is not None:
            return True  # ranked by distance below
        if when.start is not None and local < when.start:
            return False
        return not (when.end is not None and local >= when.end)

    target = _target(when, now.astimezone(tz), tz)
    fitting = [at for at in free if matches(at)]
    if when.exact and fitting:
        exact = [at for at in fitting if at == target]
        if exact or when.day is not None:
            fitting = sorted(fitting, key=lambda at: abs(at - target))[:limit]
            return exact + sorted(at for at in fitting if at not in exact), bool(exact)  # the time asked first
        # A time without a day: that time on the coming days.
        same_time = [at for at in free if at.timetz().replace(tzinfo=None) == when.start]
        if same_time:
            return same_time[:limit], True
        fitting = []
    if fitting:
        return fitting[:limit], True
    nearest = sorted(free, key=lambda at: abs(at - target))[:limit]
    return sorted(nearest), False


def _target(when: When, local_now: datetime, tz: ZoneInfo) -> datetime:
    day = when.day or (local_now.date() if when.start is None or local_now.time() < when.start
                       else local_now.date() + timedelta(days=1))
    at = when.start or (time(12, 0) if when.end is None else when.end)
    return datetime.combine(day, at, tz)


def _ceil(at: datetime) -> datetime:
    minutes = at.minute % 30
    base = at.replace(second=0, microsecond=0)
    return base if minutes == 0 and at.second == 0 and at.microsecond == 0 else base + timedelta(minutes=30 - minutes)


# --- maintenance plans -------------------------------------------------------------------------------


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


def discount(price: Decimal, plan: ServicePackage | None) -> Decimal:
    if plan is None or not plan.discount_percent:
        return Decimal("0.00")
    return (price * plan.discount_percent / Decimal(100)).quantize(Decimal("0.01"), ROUND_HALF_UP)


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
    end = at + need.duration
    fit = _fits(at, need, _busy(session, branch.id, at, end, None), _bays(session, need), branch.courtesy_cars, now)
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
        ends_at=end,
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


def move(session: Session, appointment: Appointment, need: Need, at: datetime, now: datetime) -> Appointment:
    """Move a booked appointment to `at` if that is still free (under the branch lock), else SlotTaken."""
    branch = _lock_branch(session, need.branch_id)
    end = at + need.duration
    fit = _fits(at, need, _busy(session, branch.id, at, end, appointment.id), _bays(session, need),
                branch.courtesy_cars, now)
    if not fit or at < now:
        raise SlotTaken(at.isoformat())
    appointment.starts_at = at
    appointment.ends_at = end
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
