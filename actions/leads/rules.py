"""Amounts, years and descriptions in what customers write about a request for staff (pure functions)."""

from __future__ import annotations

import re
from decimal import Decimal

from actions.kit.normalise import ascii_digits, norm

_MULTIPLIERS = {"k": 1_000, "thousand": 1_000, "الف": 1_000, "الاف": 1_000, "m": 1_000_000,
                "million": 1_000_000, "مليون": 1_000_000}
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?:(k|thousand|m|million)(?![a-z])|(الف|الاف|مليون))?"
)
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)")


def parse_amount(text: str) -> int | None:
    """The first amount in text: "85000", "85,000 km", "85k", "٨٥ ألف", "1.2 million" → int."""
    said = re.sub("[إأآ]", "ا", ascii_digits(text).lower())
    match = _NUMBER.search(said)
    if match is None:
        return None
    number = Decimal(match.group(1).replace(",", ""))
    unit = match.group(2) or match.group(3)
    if unit:
        number *= _MULTIPLIERS[unit]
    return int(number)


def year_in(text: str) -> int | None:
    """A model year in text ("Camry 2019" → 2019), None without one."""
    match = _YEAR.search(ascii_digits(text))
    return int(match.group(1)) if match else None


def valid_description(text: str) -> bool:
    """Whether free text says something (a few letters, not only digits or punctuation), within 500 chars."""
    said = norm(text)
    return 2 <= len(said) <= 500 and re.search(r"[^\W\d_]{2,}", said) is not None


def car_description(make: str | None, model: str | None, year: int | None) -> str:
    """"Nissan Patrol 2022", "Nissan", "" — the parts that are known."""
    return " ".join(str(p) for p in (make, model, year) if p)
