"""Pure rules of appointments: which extras a booking may add, the plan discount, booking references,
slot ids and a remembered time window as plain data. No session, no Turn."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from actions.kit.choice import named_in
from actions.kit.normalise import ascii_digits
from actions.kit.when import When
from db.models import Branch, ServicePackage, ServiceType

# The extras a booking may have, in the order they are offered and named.
EXTRAS = ("courtesy", "pickup", "mobile", "express")
EXPRESS_MAX_MINUTES = 60  # the express lane takes short jobs only
ADDRESS_MIN_LENGTH = 8
ADDRESS_MAX_LENGTH = 300
_REFERENCE = re.compile(r"\bBK-?([A-Z0-9]{6})\b", re.IGNORECASE)
_SLOT = "slot:"


def extras_offered(chosen: dict[str, Any], service: ServiceType, branch: Branch, courtesy_left: int) -> list[str]:
    """The extras still on offer, given those chosen: a courtesy car while the branch has one left,
    pick-up/drop-off, mobile service (eligible work, a branch that offers it, no other extra) and the
    express lane for short eligible jobs; nothing more once mobile service is chosen."""
    if chosen.get("mobile"):
        return []
    offered = []
    if not chosen.get("courtesy") and courtesy_left > 0:
        offered.append("courtesy")
    if not chosen.get("pickup"):
        offered.append("pickup")
    if (not any(chosen.get(name) for name in ("courtesy", "pickup", "express"))
            and service.mobile_eligible and branch.offers_mobile_service):
        offered.append("mobile")
    if not chosen.get("express") and service.express_eligible and service.duration_minutes <= EXPRESS_MAX_MINUTES:
        offered.append("express")
    return offered


def discount(price: Decimal, plan: ServicePackage | None) -> Decimal:
    """The plan's discount on a price, to the fils."""
    if plan is None or not plan.discount_percent:
        return Decimal("0.00")
    return (price * plan.discount_percent / Decimal(100)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def address(said: str | None) -> str | None:
    """The service address the customer wrote (spaces tidied, cut to length), or None if too short."""
    text = " ".join((said or "").split())[:ADDRESS_MAX_LENGTH]
    return text if len(text) >= ADDRESS_MIN_LENGTH and re.search(r"\w{2,}", text) else None


def extras_named(said: str | None) -> list[str]:
    """The extras a message asks for by their words ("mobile oil change at my villa", "with a courtesy
    car", "pick it up from my office"), in the order they are offered (texts/words.yml)."""
    return [option_id.removeprefix("extra:") for option_id in named_in(said, [f"extra:{name}" for name in EXTRAS])]


def reference_in(said: str | None) -> str | None:
    """A booking reference written in a message ("bk-3h7kqa", "BK3H7KQA") as "BK-3H7KQA"."""
    match = _REFERENCE.search(ascii_digits(said))
    return f"BK-{match.group(1).upper()}" if match else None


# --- remembered in the flow's data ---------------------------------------------------------------------


def slot_id(at: datetime, tz: ZoneInfo) -> str:
    """The option id of a start time: "slot:2026-11-27T18:00" (local time)."""
    return _SLOT + at.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def slot_at(option_id: str, tz: ZoneInfo) -> datetime | None:
    try:
        return datetime.fromisoformat(option_id.removeprefix(_SLOT)).replace(tzinfo=tz)
    except ValueError:
        return None


def when_data(when: When | None) -> dict[str, Any] | None:
    if when is None:
        return None
    return {
        "day": when.day.isoformat() if when.day else None,
        "start": when.start.strftime("%H:%M") if when.start else None,
        "end": when.end.strftime("%H:%M") if when.end else None,
        "exact": when.exact,
    }


def when_from(data: dict[str, Any] | None) -> When | None:
    if not data:
        return None
    return When(
        day=date.fromisoformat(data["day"]) if data.get("day") else None,
        start=datetime.strptime(data["start"], "%H:%M").time() if data.get("start") else None,
        end=datetime.strptime(data["end"], "%H:%M").time() if data.get("end") else None,
        exact=bool(data.get("exact")),
    )


def around(at: datetime) -> When:
    """The wish "exactly this time" (to offer the nearest others when it is gone)."""
    return When(day=at.date(), start=at.time(), exact=True)
