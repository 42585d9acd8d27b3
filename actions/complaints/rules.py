"""Complaint rules, without a database or a conversation: the categories and the words that point at
them, the SLA deadlines of a new complaint, the next deadline of an open one, and ticket references.

SLA of a complaint (DIGEST "Customer service and communication"): acknowledged at once (the bot's answer
is the acknowledgement), a substantive answer within `settings.complaint_response_hours`, safety issues
the same day (the same-day rule of urgent cases: actions.warranty.rules).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from actions.kit.choice import named_in
from actions.kit.normalise import ascii_digits
from actions.warranty.rules import is_safety, same_day_deadline
from db.models import Complaint

# Resolution targets (the seed names none): a week for a normal complaint, two days for a safety issue.
RESOLVE_NORMAL = timedelta(days=7)
RESOLVE_SAFETY = timedelta(days=2)
# Cases shown by case_status without a ticket id: every unfinished one, and finished ones this recent.
RECENTLY_FINISHED = timedelta(days=30)
MAX_LISTED = 8
FINISHED_STATUSES = ("resolved", "closed")

COMPLAINT_CATEGORIES = (
    "service_quality",
    "delay",
    "staff",
    "billing",
    "vehicle_fault",
    "parts",
    "safety",
    "other",
)

# The order in which a complaint's own words are matched to a category (safety first: "the brakes
# failed, and I waited two hours" is a safety complaint). The words are the dealership's, in
# texts/words.yml (the same words pick a category option when typed).
_CATEGORY_PRIORITY = ("safety", "delay", "staff", "billing", "vehicle_fault", "parts", "service_quality", "other")

_TICKET = re.compile(r"\b(WC|C)\s*-?\s*(\d{1,9})\b", re.IGNORECASE)


def category_in(said: str | None) -> str | None:
    """The category the words of a message point at, if any."""
    named = named_in(said, [f"category:{c}" for c in _CATEGORY_PRIORITY])
    return named[0].removeprefix("category:") if named else None


def ticket_in(*texts: str | None) -> tuple[str, int] | None:
    """The first ticket reference in the texts: ("WC", 12) for "wc-12", ("C", 3) for "C 3"."""
    for said in texts:
        match = _TICKET.search(ascii_digits(said))
        if match:
            return match.group(1).upper(), int(match.group(2))
    return None


@dataclass(frozen=True)
class Deadlines:
    """A new complaint's severity and deadlines."""

    safety: bool
    respond_by: datetime
    resolve_by: datetime


def complaint_deadlines(
    now: datetime, tz: tzinfo, category: str, description: str, response_hours: int
) -> Deadlines:
    """A safety issue (by category or by its words) is answered the same day and resolved in two days;
    any other within `response_hours` and in a week."""
    if category == "safety" or is_safety(description):
        return Deadlines(True, same_day_deadline(now, tz), now + RESOLVE_SAFETY)
    respond_by = now + timedelta(hours=response_hours)
    return Deadlines(False, respond_by, max(now + RESOLVE_NORMAL, respond_by))


def complaint_next(complaint: Complaint) -> tuple[str | None, datetime | None]:
    """The complaint's next deadline: "acknowledge", "answer" or "resolve" and when; none once finished."""
    if complaint.status in FINISHED_STATUSES:
        return None, None
    if complaint.acknowledged_at is None:
        return "acknowledge", complaint.acknowledge_by
    if complaint.responded_at is None:
        return "answer", complaint.respond_by
    if complaint.resolved_at is None:
        return "resolve", complaint.resolve_by
    return None, None
