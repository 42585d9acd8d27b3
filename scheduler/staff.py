"""Staff alerts (outbox rows on the `staff` channel) as a message to the service team's Telegram chat.

The chat turns raise them (a safety complaint, a warranty claim, a hand-off request, roadside help, a
lead...) and so do the jobs (a deadline missed): each names its ticket or reference first, then the
facts it carries, so the advisor who reads it on the phone knows what and where without opening the
console. The team's chat reads English (the console has both languages); a customer never sees these.
"""

from __future__ import annotations

from typing import Any

from actions.kit.catalog import text
from actions.kit.types import Reply
from db.models import OutboxMessage

# The payload fields that name the case, in the order they are looked for.
REFERENCE_FIELDS = ("ticket", "reference", "incident", "lead_id", "handoff_id")
STAFF_LANGUAGE = "en"


def render(row: OutboxMessage) -> Reply:
    payload: dict[str, Any] = dict(row.payload or {})
    urgent = bool(payload.pop("urgent", False))
    reference = next((str(payload[f]) for f in REFERENCE_FIELDS if payload.get(f) not in (None, "")), None)
    title_key = f"staff_alert_{row.kind}"
    try:
        title = text(title_key, STAFF_LANGUAGE)
    except KeyError:
        title = row.kind.replace("_", " ")
    head = text("staff_alert_head", STAFF_LANGUAGE, title=title, desk=row.recipient)
    if reference:
        head = f"{head} · {reference}"
    if urgent:
        head = f"{text('staff_alert_urgent', STAFF_LANGUAGE)} {head}"
    lines = [head]
    lines += [f"{name.replace('_', ' ')}: {_short(value)}" for name, value in payload.items()
              if name not in REFERENCE_FIELDS and value not in (None, "", [], {})]
    return Reply("\n".join(lines))


def _short(value: object, limit: int = 300) -> str:
    said = value if isinstance(value, str) else str(value)
    return said if len(said) <= limit else said[: limit - 1] + "…"
