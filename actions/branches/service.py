"""Branch reads and the week's opening hours as a customer reads them (for chat, other domains, console)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.branches import rules
from actions.kit.catalog import text
from actions.kit.formats import clock, weekday
from actions.kit.hours import OpeningHours, Period
from db.models import Branch


def all_branches(session: Session) -> list[Branch]:
    return list(session.scalars(select(Branch).order_by(Branch.id)))


def find_branch(session: Session, said: str | None, codes: Iterable[str] = ()) -> Branch | None:
    """The branch a text names (or a branch code the NLU found), else None."""
    return rules.branch_named(all_branches(session), said, codes)


def nearest_branch(session: Session, lat: float, lng: float) -> Branch | None:
    return rules.nearest(all_branches(session), lat, lng)


def _periods_text(periods: tuple[Period, ...], language: str) -> str:
    if not periods:
        return text("info_closed", language)
    return text("info_period_sep", language).join(
        text("info_period", language, opens=clock(o), closes=clock(c)) for o, c in periods
    )


def status_text(hours: OpeningHours, local_now: datetime, language: str) -> str:
    """"open now, until 22:00" / "closed now, opens tomorrow at 08:00" …"""
    status = hours.status(local_now)
    if status.open and status.at is not None:
        return text("info_open_now", language, time=clock(status.at))
    if status.at is None or status.weekday is None:
        return text("info_closed_now", language)
    opens = clock(status.at)
    if status.days_ahead == 0:
        return text("info_opens_later_today", language, time=opens)
    if status.days_ahead == 1:
        return text("info_opens_tomorrow", language, time=opens)
    return text("info_opens_on", language, day=weekday(status.weekday, language), time=opens)


def hours_lines(branch: Branch, local_now: datetime, language: str) -> str:
    """The week's opening hours in local (Dubai) time, today first, with whether it is open now."""
    hours = OpeningHours.from_rows(branch.hours)
    today = local_now.weekday()
    lines = [
        text(
            "info_today_line",
            language,
            day=weekday(today, language),
            hours=_periods_text(hours.on(today), language),
            status=status_text(hours, local_now, language),
        )
    ]
    for ahead in range(1, 7):
        day = (today + ahead) % 7
        lines.append(text("info_day_line", language, day=weekday(day, language),
                          hours=_periods_text(hours.on(day), language)))
    return "\n".join(lines)


def branch_card(branch: Branch, local_now: datetime, language: str) -> str:
    """Name, address, phone, map link and the week's hours of one branch."""
    return text(
        "info_branch",
        language,
        name=rules.branch_name(branch, language),
        address=rules.branch_address(branch, language),
        phone=branch.phone,
        map=rules.map_url(branch),
        hours=hours_lines(branch, local_now, language),
    )
