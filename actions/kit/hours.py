"""A branch's opening hours (BranchHours rows, Dubai time; a split shift is several periods a day).

One place answers "is it open now", "when does it open next" and "which periods does a day have", for
the slot finder, the branch information and the hand-off promise alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import BranchHours

Period = tuple[time, time]


@dataclass(frozen=True)
class Status:
    """Where a branch stands at a moment: open until `at`, or opening at `at` `days_ahead` days later
    (0 = later today); `at` is None when the branch has no hours at all."""

    open: bool
    at: time | None = None
    days_ahead: int = 0
    weekday: int | None = None


@dataclass(frozen=True)
class OpeningHours:
    # weekday (0 = Monday) → the day's periods, sorted; a day without hours is closed.
    periods: dict[int, tuple[Period, ...]]

    @classmethod
    def from_rows(cls, rows: Iterable[BranchHours]) -> OpeningHours:
        periods: dict[int, list[Period]] = {}
        for row in rows:
            periods.setdefault(row.weekday, []).append((row.opens, row.closes))
        return cls({day: tuple(sorted(spans)) for day, spans in periods.items()})

    @classmethod
    def of_branch(cls, session: Session, branch_id: int) -> OpeningHours:
        return cls.from_rows(session.scalars(select(BranchHours).where(BranchHours.branch_id == branch_id)))

    def __bool__(self) -> bool:
        return any(self.periods.values())

    def on(self, weekday: int) -> tuple[Period, ...]:
        return self.periods.get(weekday, ())

    def status(self, local: datetime) -> Status:
        """Open now (until when), or when it opens next, seen from a local (Dubai) moment."""
        today, now = local.weekday(), local.time()
        for opens, closes in self.on(today):
            if opens <= now < closes:
                return Status(True, closes)
        later = [opens for opens, _ in self.on(today) if opens > now]
        if later:
            return Status(False, later[0], 0, today)
        for ahead in range(1, 8):
            day = (today + ahead) % 7
            if self.on(day):
                return Status(False, self.on(day)[0][0], ahead, day)
        return Status(False)

    def next_answer(self, local: datetime, needs: timedelta = timedelta(0)) -> datetime | None:
        """`local` if the branch is open with at least `needs` left before it closes, else the next
        opening; None when it has no hours at all."""
        if not self:
            return None
        for offset in range(8):
            day: date = local.date() + timedelta(days=offset)
            for opens, closes in self.on(day.weekday()):
                start = datetime.combine(day, opens, local.tzinfo)
                end = datetime.combine(day, closes, local.tzinfo)
                if start <= local and local + needs <= end:
                    return local
                if start > local:
                    return start
        return None
