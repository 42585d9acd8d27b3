"""Odometer readings as pure rules: reading one from text, and whether a new one makes sense.

A reading comes from the NLU's `mileage` entity, else from the text ("85,000 km", "٤٥ ألف", "120k",
"39.5k", "104 thousand"). It must not be lower than any reading we have. A reading that is absurd for the
time since the last one (more than MAX_KM_PER_DAY a day plus TRIP_ALLOWANCE_KM) or for the car's age (more
than MAX_KM_PER_YEAR on average since its model year began) is stored only after the customer confirms it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from actions.kit.normalise import ascii_digits, has_any, norm

# A car can do a long trip right after its last reading (Dubai–Salalah and back is ~3,000 km), and heavy
# users drive ~100,000 km a year; beyond both, ask first.
MAX_KM_PER_DAY = 600
TRIP_ALLOWANCE_KM = 3_000
MAX_KM_PER_YEAR = 100_000
MIN_READING_KM = 100  # a used car with less is a typo (or an option number, "2")
MAX_READING_KM = 2_000_000

_NUMBER = re.compile(
    r"(?<![\dA-Za-z.,])(\d{1,3}(?:[,. ]\d{3})+(?![\d])|\d+(?:\.\d+)?)"
    r"\s*(k\b|thousand\b|ألف|الف|آلاف|الاف|ألاف)?"
    r"\s*(kilometers?\b|kilometres?\b|kms?\b|كم|كيلو(?:متر)?|كلم)?",
    re.IGNORECASE,
)
_VIN_LIKE = re.compile(r"\b[A-HJ-NPR-Za-hj-npr-z0-9]{17}\b")


def parse_mileage(text: str) -> int | None:
    """An odometer reading in km from free text: "85,000 km", "85.000", "120k", "39.5k", "104 thousand",
    "٤٥ ألف", "٧٣٤٥٠ كم". A number with a unit or multiplier wins over a bare one; years and tiny numbers
    are not readings."""
    said = ascii_digits(text)
    best: tuple[int, int] | None = None  # (score, km)
    for match in _NUMBER.finditer(said):
        digits, multiplier, unit = match.group(1), match.group(2), match.group(3)
        if re.fullmatch(r"\d{1,3}(?:[,. ]\d{3})+", digits):
            value = float(re.sub(r"[,. ]", "", digits))
        else:
            value = float(digits)
        if multiplier:
            value *= 1_000
        km = int(round(value))
        score = (2 if multiplier else 0) + (1 if unit else 0)
        if not score and re.fullmatch(r"(?:19|20)\d\d", digits):
            continue  # "my 2020 Land Cruiser"
        if km < MIN_READING_KM:
            continue
        if best is None or score > best[0]:
            best = (score, km)
    return best[1] if best is not None else None


def reading_in(text: str | None, mileage_values: Iterable[str], masks: Iterable[str] = ()) -> int | None:
    """The reading of a message: the NLU's `mileage` entity values first, else a number in the text with
    the `masks` (plates, VINs, ticket ids as written) and anything VIN-like left out."""
    for value in mileage_values:
        km = parse_mileage(value)
        if km is not None:
            return km
    said = text or ""
    for mask in masks:
        if mask:
            said = re.sub(re.escape(mask), " ", said, flags=re.IGNORECASE)
    return parse_mileage(_VIN_LIKE.sub(" ", said))


# Words that make a km in a message the car's reading now ("odometer says 118,400", "I'm at 45k",
# "العداد ٨٠ ألف", "al 3dad 90k"), not a question about a km ("what is due at 60k?").
_NOW_WORDS = (
    "odometer", "odo", "odometre", "reading", "reads", "clock", "clocked", "i m at", "im at", "i am at",
    "we re at", "it s at", "its at", "it has", "has done", "done", "currently", "now", "right now", "today",
    "at the moment", "mileage is", "km is", "kms is", "on the clock", "on it",
    "عداد", "العداد", "عدادها", "عداده", "الحين", "حاليا", "حالياً", "الان", "الآن", "ماشيه", "ماشية", "ماشي",
    "قاطعه", "قاطعة", "مشت", "مشى", "صار", "صارت", "وصلت", "3dad", "el 3dad", "al7een", "el7een", "7alyan",
    "hal7een", "mashya", "mashyeh",
)


def states_reading(text: str | None) -> bool:
    """Whether a message states the car's present odometer (see _NOW_WORDS), not a hypothetical km."""
    return has_any(norm(text), _NOW_WORDS)


@dataclass
class Check:
    verdict: str  # "ok", "same", "backwards", "jump", "age"
    last_km: int | None = None
    last_on: date | None = None


def age_years(model_year: int, today: date) -> float:
    """Years since the car's model year began (at least one)."""
    return max((today - date(model_year, 1, 1)).days / 365.25, 1.0)


def judge(points: Sequence[tuple[date, int]], km: int, today: date, model_year: int) -> Check:
    """Whether a new reading makes sense against the car's odometer history `points` ((date, km) pairs):
    not lower than the highest, not an absurd jump for the days since it or for the car's age."""
    last_on, last_km = max(points, key=lambda p: (p[1], p[0])) if points else (None, None)
    if last_km is not None and last_on is not None:
        if km < last_km:
            return Check("backwards", last_km, last_on)
        if km == last_km:
            return Check("same", last_km, last_on)
        days = max((today - last_on).days, 1)
        if km - last_km > MAX_KM_PER_DAY * days + TRIP_ALLOWANCE_KM:
            return Check("jump", last_km, last_on)
    if km > MAX_KM_PER_YEAR * age_years(model_year, today) or km > MAX_READING_KM:
        return Check("age", last_km, last_on)
    return Check("ok", last_km, last_on)
