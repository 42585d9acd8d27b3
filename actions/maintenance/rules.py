"""When the next service is due, as pure rules of data and dates.

The interval is the most specific maintenance plan for the car — exact make and model, then make with
model "*", then "*" with the model, then ("*", "*"), the default; without any plan DEFAULT_INTERVAL. The
next service is counted from the last scheduled service (a service record whose work is a periodic
service or an oil change — a tyre or battery job does not reset the schedule), else from the purchase:
due on base date + months, or at base km + interval km, whichever comes first. The latest mileage is the
newest odometer value known (readings and service records). When the customer's usual driving reaches the
km before the date, the estimated date is told too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from dateutil.relativedelta import relativedelta

from db.models import ServiceRecord, Vehicle

# When no maintenance plan row matches at all (not even the ("*", "*") default): every 10,000 km or 6
# months, as the demo's default plan and the seed's "regular service" say.
DEFAULT_INTERVAL = (10_000, 6)  # km, months
# "Due soon": within this many days or km the answer says so.
SOON_DAYS = 30
SOON_KM = 1_000
# A customer's driving rate is estimated from readings at least this far apart.
MIN_RATE_SPAN_DAYS = 30
# A latest reading older than this many days is asked for afresh.
STALE_READING_DAYS = 60

_MAINTENANCE_WORK = re.compile(r"\boil\b|\bservic(?:e|ing)\b|\bmaintenance\b|صيانة|الزيت|زيت", re.IGNORECASE)
_NOT_MAINTENANCE = re.compile(r"\b(?:ac|a/c|aircon|air[- ]?con\w*)\b|المكيف|مكيف|التكييف", re.IGNORECASE)

# A plan: (make or "*", model or "*", interval km, interval months).
Plan = tuple[str | None, str | None, int, int]


def best_plan(plans: Iterable[Plan], make: str, model: str) -> tuple[int, int]:
    """(interval km, interval months) of the most specific plan for make and model, else the default."""
    make, model = make.casefold(), model.casefold()
    best: tuple[int, Plan] | None = None
    for plan in plans:
        plan_make, plan_model = (plan[0] or "*").strip().casefold(), (plan[1] or "*").strip().casefold()
        if plan_make not in ("*", make) or plan_model not in ("*", model):
            continue
        rank = (2 if plan_make != "*" else 0) + (1 if plan_model != "*" else 0)
        if best is None or rank > best[0]:
            best = (rank, plan)
    if best is None:
        return DEFAULT_INTERVAL
    return best[1][2], best[1][3]


@lru_cache(maxsize=4096)  # a fleet's service records repeat a few work texts (a scan asks 100,000 times)
def is_scheduled_service(work: str) -> bool:
    """Whether a service record's work resets the maintenance schedule (a periodic service, an oil change)."""
    return bool(_MAINTENANCE_WORK.search(work or "")) and not _NOT_MAINTENANCE.search(work or "")


@dataclass
class Due:
    vehicle: Vehicle
    interval_km: int
    interval_months: int
    last_service: ServiceRecord | None
    base_date: date
    base_km: int | None
    due_date: date
    due_km: int | None
    latest_km: int | None
    latest_on: date | None
    km_per_day: float | None
    km_reached_on: date | None  # when the usual driving reaches due_km (None: unknown)
    today: date

    @property
    def days_left(self) -> int:
        return (self.due_date - self.today).days

    @property
    def km_left(self) -> int | None:
        if self.due_km is None or self.latest_km is None:
            return None
        return self.due_km - self.latest_km

    @property
    def overdue(self) -> bool:
        return self.days_left < 0 or (self.km_left is not None and self.km_left <= 0)

    @property
    def soon(self) -> bool:
        return self.days_left <= SOON_DAYS or (self.km_left is not None and self.km_left <= SOON_KM) or (
            self.km_reached_on is not None and (self.km_reached_on - self.today).days <= SOON_DAYS
        )

    @property
    def estimate(self) -> bool:
        """Whether the usual driving reaches the km before the date (then that is told too)."""
        return self.km_reached_on is not None and self.km_reached_on < self.due_date and bool(self.km_per_day)

    @property
    def probably_passed(self) -> bool:
        """The usual driving has probably passed the km since the last (old) reading: the km left by that
        reading would mislead."""
        return self.estimate and self.km_reached_on is not None and self.km_reached_on <= self.today


@lru_cache(maxsize=8192)  # the scan's dates repeat (a few years of days); relativedelta is slow to build
def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it has fewer (31 Jan + 1 = 28/29 Feb)."""
    result: date = day + relativedelta(months=months)
    return result


def km_on(points: Sequence[tuple[date, int]], day: date) -> int | None:
    """The odometer on a day: the last value on or before it, else the first after it."""
    before = [km for on, km in points if on <= day]
    after = [km for on, km in points if on > day]
    return before[-1] if before else (after[0] if after else None)


def base_of(records: Iterable[ServiceRecord], points: Sequence[tuple[date, int]], purchase_date: date | None,
            recorded_on: date) -> tuple[ServiceRecord | None, date, int | None]:
    """Where the next service is counted from: (the last scheduled service, its date, its km), else the
    purchase (or the first odometer value, or the day the car was recorded) with the km on that day.
    `points` are the car's sorted odometer values; km None when none tells it (the caller may then take
    the pre-delivery inspection's)."""
    scheduled = [r for r in records if is_scheduled_service(r.work)]
    last = max(scheduled, key=lambda r: (r.service_date, r.id)) if scheduled else None
    if last is not None:
        base_date, base_km = last.service_date, last.mileage_km
    else:
        base_date = purchase_date or (points[0][0] if points else recorded_on)
        base_km = None
    if base_km is None:
        base_km = km_on(points, base_date)
    return last, base_date, base_km


def due(vehicle: Vehicle, plan: tuple[int, int], last: ServiceRecord | None, base_date: date, base_km: int | None,
        points: Sequence[tuple[date, int]], today: date) -> Due:
    """The next service counted from `base_date`/`base_km` (the last scheduled service, else the purchase),
    with the latest odometer value and the usual driving rate of the sorted odometer `points`."""
    interval_km, months = plan
    due_date = add_months(base_date, months)
    due_km = base_km + interval_km if base_km is not None else None
    latest_on: date | None = None
    latest_km: int | None = None
    per_day: float | None = None
    if points:
        latest_on = points[-1][0]
        latest_km = max(km for day, km in points if day == latest_on)  # of several values that day, the highest
        first_on, first_km = points[0]
        span = (latest_on - first_on).days
        if span >= MIN_RATE_SPAN_DAYS and latest_km > first_km:
            per_day = (latest_km - first_km) / span
    reached = None
    if per_day and due_km is not None and latest_km is not None and latest_on is not None and latest_km < due_km:
        reached = latest_on + timedelta(days=int((due_km - latest_km) / per_day))
    return Due(vehicle, interval_km, months, last, base_date, base_km, due_date, due_km, latest_km, latest_on,
               per_day, reached, today)


def short(work: str, limit: int = 90) -> str:
    """The gist of a service record's work: up to the first colon, else the first `limit` characters."""
    head = work.split(":", 1)[0].strip()
    if 0 < len(head) < len(work):
        return head
    return work if len(work) <= limit else work[: limit - 1].rstrip() + "…"
