"""The managers' reports, over the last MONTHS months (in the dealership's time zone):

- complaints per category and month;
- time to the first answer: the median hours from a complaint to our first answer, against the median
  the deadlines allowed, and the share answered in time;
- CSAT: the average rating (1-5) of feedback, per month, and how many;
- reminders → bookings: of the service reminders sent, how many were followed by a booking of that car
  within CONVERSION_DAYS.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Appointment, Complaint, Feedback, OutboxMessage

MONTHS = 12
CONVERSION_DAYS = 14


@dataclass
class Reports:
    months: list[str]
    complaints: dict[str, Counter[str]] = field(default_factory=dict)  # month → category → count
    first_answer_hours: float | None = None
    allowed_hours: float | None = None
    answered: int = 0
    answered_in_time: int = 0
    csat: dict[str, tuple[float, int]] = field(default_factory=dict)  # month → (average, count)
    reminders_sent: int = 0
    reminders_booked: int = 0

    @property
    def categories(self) -> list[str]:
        return sorted({c for counts in self.complaints.values() for c in counts})

    def rows(self) -> list[tuple[str, str, str, str]]:
        """Every figure as (report, month or "", key, value): the CSV."""
        out = [("complaints", m, c, str(self.complaints.get(m, Counter())[c])) for m in self.months for c in self.categories]
        out += [("first_answer", "", "median_hours", _num(self.first_answer_hours)),
                ("first_answer", "", "median_hours_allowed", _num(self.allowed_hours)),
                ("first_answer", "", "answered", str(self.answered)),
                ("first_answer", "", "answered_in_time", str(self.answered_in_time))]
        out += [("csat", m, "average", _num(avg)) for m, (avg, _n) in self.csat.items()]
        out += [("csat", m, "ratings", str(n)) for m, (_avg, n) in self.csat.items()]
        out += [("reminder_conversion", "", "reminders_sent", str(self.reminders_sent)),
                ("reminder_conversion", "", "followed_by_a_booking", str(self.reminders_booked))]
        return out


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _month(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m")


def build(session: Session, now: datetime, tz: tzinfo) -> Reports:
    first = (now.astimezone(tz).date().replace(day=1) - relativedelta(months=MONTHS - 1))
    since = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    months = [(first + relativedelta(months=i)).strftime("%Y-%m") for i in range(MONTHS)]
    reports = Reports(months)
    took: list[float] = []
    allowed: list[float] = []
    complaints: dict[str, Counter[str]] = defaultdict(Counter)
    for created, category, respond_by, responded in session.execute(
        select(Complaint.created_at, Complaint.category, Complaint.respond_by, Complaint.responded_at)
        .where(Complaint.created_at >= since)
    ):
        complaints[_month(created, tz)][category] += 1
        allowed.append((respond_by - created).total_seconds() / 3600)
        if responded is not None:
            took.append((responded - created).total_seconds() / 3600)
            reports.answered += 1
            reports.answered_in_time += responded <= respond_by
    reports.complaints = dict(complaints)
    reports.first_answer_hours = statistics.median(took) if took else None
    reports.allowed_hours = statistics.median(allowed) if allowed else None
    ratings: dict[str, list[int]] = defaultdict(list)
    for created, rating in session.execute(select(Feedback.created_at, Feedback.rating).where(Feedback.created_at >= since)):
        ratings[_month(created, tz)].append(rating)
    reports.csat = {m: (statistics.fmean(ratings[m]), len(ratings[m])) for m in months if ratings.get(m)}
    sent = session.execute(
        select(OutboxMessage.payload, OutboxMessage.sent_at)
        .where(OutboxMessage.kind == "service_due", OutboxMessage.status == "sent", OutboxMessage.sent_at >= since)
    ).all()
    vehicle_ids = {int(p["vehicle_id"]) for p, _ in sent if p.get("vehicle_id") is not None}
    bookings: dict[int, list[datetime]] = defaultdict(list)
    if vehicle_ids:
        for vehicle_id, created in session.execute(
            select(Appointment.vehicle_id, Appointment.created_at)
            .where(Appointment.vehicle_id.in_(vehicle_ids), Appointment.created_at >= since)
        ):
            bookings[vehicle_id].append(created)
    reports.reminders_sent = len(sent)
    reports.reminders_booked = sum(
        1 for payload, at in sent
        if any(at <= b <= at + timedelta(days=CONVERSION_DAYS) for b in bookings.get(int(payload.get("vehicle_id", 0)), []))
    )
    return reports


def bars(values: list[tuple[str, float]], width: int = 560, bar: int = 18, unit: str = "") -> str:
    """A horizontal bar chart as inline SVG (no script, no build step); labels are escaped by the caller's
    template engine only for text, so they are escaped here."""
    from html import escape

    top = max((v for _, v in values), default=0) or 1
    label_w = 140
    rows = []
    for i, (label, value) in enumerate(values):
        y = i * (bar + 6)
        w = int((width - label_w - 60) * value / top)
        rows.append(f'<text x="{label_w - 6}" y="{y + bar - 5}" text-anchor="end" font-size="12">{escape(label)}</text>'
                    f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar}" fill="#2f6db3"></rect>'
                    f'<text x="{label_w + w + 4}" y="{y + bar - 5}" font-size="12">{value:g}{escape(unit)}</text>')
    height = max(1, len(values)) * (bar + 6)
    return f'<svg role="img" width="{width}" height="{height}" direction="ltr">{"".join(rows)}</svg>'
