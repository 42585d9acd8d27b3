"""The slot finder: which start times really fit a branch, for one booking's needs.

Capacity is the branch's active bays, and only lift bays for work that needs a lift; an appointment holds
one bay from its start to its end. Start times lie on a 30-minute grid inside one opening period of the
branch (actions.kit.hours.OpeningHours, Dubai time; split shifts are several periods), evenings and
weekends included, and the work must end before the period closes. Mobile service at the customer's place
uses no bay but one of the branch's mobile teams; a courtesy car is offered while the branch's cars last
(its `courtesy_cars` minus the booked appointments with a courtesy car overlapping the same time).

Customers on a maintenance plan (an active PackageSubscription of a package with priority booking) get
priority slots: at branches with three or more fitting bays, the last free bay of a time is kept for
them until 24 hours before it starts.

Only reads here; booking, moving and cancelling (under the branch lock) are in service.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.kit.hours import OpeningHours
from actions.kit.when import When
from db.models import Appointment, Bay, Branch, ServiceType

GRID = timedelta(minutes=30)
LEAD_TIME = timedelta(hours=2)  # the earliest start offered: the workshop needs time to prepare
HORIZON = timedelta(days=21)  # how far ahead slots are searched
PRIORITY_HOLD = timedelta(hours=24)  # a bay kept for plan customers is released this long before
PRIORITY_MIN_BAYS = 3  # branches with fewer fitting bays keep none back
MOBILE_TEAMS = 2  # mobile technicians per branch that offers mobile service


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


def _starts(hours: OpeningHours, duration: timedelta, first: datetime, last: datetime,
            tz: ZoneInfo) -> Iterable[datetime]:
    """Local start times on the grid within opening periods, the work ending by the period's close."""
    day = first.astimezone(tz).date()
    while day <= last.astimezone(tz).date():
        for opens, closes in hours.on(day.weekday()):
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


def place(session: Session, branch: Branch, need: Need, at: datetime, now: datetime) -> Bay | None | bool:
    """Where `need` goes at `at` as the bookings stand now: the bay, True (mobile, no bay), or None/False
    when it no longer fits. The caller holding the branch lock (service.book/move) may trust the answer."""
    busy = _busy(session, branch.id, at, at + need.duration, need.exclude_id)
    return _fits(at, need, busy, _bays(session, need), branch.courtesy_cars, now)


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
    hours = OpeningHours.of_branch(session, need.branch_id)
    if at not in set(_starts(hours, need.duration, at, at, tz)):
        return False
    return bool(place(session, branch, need, at, now))


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
    hours = OpeningHours.of_branch(session, need.branch_id)
    busy = _busy(session, need.branch_id, first, last + timedelta(days=1), need.exclude_id)
    bays = _bays(session, need)
    if not bays and not need.mobile:
        return [], False
    free = [at for at in _starts(hours, need.duration, first, last, tz)
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
