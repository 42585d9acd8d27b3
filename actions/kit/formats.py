"""Dates, times, numbers and money as a customer reads them, in English and Arabic, by Babel (CLDR).

Every domain formats through here: no hand-written month or weekday tables. Times are 24-hour ("09:00")
and digits Western in both languages, as the UAE writes them (CLDR's `ar` numbering system is latn).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from actions.kit.catalog import text


@cache
def locale(language: str) -> Locale:
    return Locale.parse("ar" if language == "ar" else "en")


def clock(moment: time | datetime) -> str:
    """"09:00"."""
    return format_time(moment, "HH:mm", locale=locale("en"))


def weekday(day: date | int, language: str, short: bool = False) -> str:
    """"Saturday" / "Sat" / "السبت" for a date or a weekday number (0 = Monday)."""
    if isinstance(day, int):
        names = locale(language).days["format"]["abbreviated" if short else "wide"]
        return names[day]
    return format_date(day, "EEE" if short else "EEEE", locale=locale(language))


def day(moment: date, language: str) -> str:
    """"Sat 28 Nov 2026" / "السبت 28 نوفمبر 2026"."""
    return format_date(moment, "EEE d MMM y" if language != "ar" else "EEEE d MMMM y", locale=locale(language))


def day_month(moment: date, language: str) -> str:
    """"Sat 28 Nov" / "السبت 28 نوفمبر" (a date within the coming weeks)."""
    return format_date(moment, "EEE d MMM" if language != "ar" else "EEEE d MMMM", locale=locale(language))


def month_year(moment: date, language: str) -> str:
    """"November 2026" / "نوفمبر 2026"."""
    return format_date(moment, "MMMM y", locale=locale(language))


def number(value: int | float | Decimal, language: str = "en") -> str:
    """"85,000", "1,250.5": grouped, at most two decimals."""
    return format_decimal(value, format="#,##0.##", locale=locale(language))


def money(amount: int | float | Decimal, language: str = "en") -> str:
    """An amount of dirhams without the currency (the text says AED / درهم): "1,250" or "1,250.50"."""
    amount = Decimal(amount)
    pattern = "#,##0" if amount == amount.to_integral_value() else "#,##0.00"
    return format_decimal(amount, format=pattern, locale=locale(language))


def moment(at: datetime, language: str, tz: tzinfo, now: datetime) -> str:
    """A deadline or an event in local time: "today 21:00", "tomorrow 12:00", else "Sat 28 Nov 2026 10:00"
    (the words "today" and "tomorrow" are catalog texts)."""
    local = at.astimezone(tz)
    today = now.astimezone(tz).date()
    if local.date() == today:
        return f"{text('today', language)} {clock(local)}"
    if local.date() == today + timedelta(days=1):
        return f"{text('tomorrow', language)} {clock(local)}"
    return f"{day(local.date(), language)} {clock(local)}"
