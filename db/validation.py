"""Parsing and checking of the values that arrive from outside: phones, VINs, dates, money.

Each parser returns the normal form or raises `InvalidValue` with a reason a person can act on.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InvalidValue(ValueError):
    """A value from outside that cannot be used; the message says why."""


DEFAULT_REGION = "AE"

_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UAE_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_PLATE_SPACES = re.compile(r"[\s\-]+")
_LANGUAGE_WORDS = {
    "en": "en",
    "eng": "en",
    "english": "en",
    "انجليزي": "en",
    "الإنجليزية": "en",
    "ar": "ar",
    "ara": "ar",
    "arabic": "ar",
    "عربي": "ar",
    "العربية": "ar",
}


@lru_cache(maxsize=200_000)
def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Any way people write a phone number ('050 123 4567', '00971501234567') -> E.164."""
    text = raw.strip()
    if not text:
        raise InvalidValue("phone is empty")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue(f"unparseable phone {raw!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue(f"unparseable phone {raw!r}: not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_vin(raw: str) -> str:
    vin = raw.strip().upper()
    if not _VIN.match(vin):
        raise InvalidValue(f"bad VIN {raw.strip()!r}: a VIN is 17 letters and digits, without I, O or Q")
    return vin


def normalise_plate(raw: str) -> str | None:
    plate = _PLATE_SPACES.sub(" ", raw.strip().upper())
    if not plate:
        return None
    if len(plate) > 20:
        raise InvalidValue(f"bad plate {raw!r}: longer than 20 characters")
    return plate


def parse_date(raw: str) -> date:
    """ISO `YYYY-MM-DD` or the UAE habit `DD/MM/YYYY`; nothing else is guessed."""
    text = raw.strip()
    match = _ISO_DATE.match(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = _UAE_DATE.match(text)
        if not match:
            raise InvalidValue(f"unknown date format {raw!r}: use YYYY-MM-DD or DD/MM/YYYY")
        day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidValue(f"impossible date {raw!r}: {exc}") from exc


def parse_int(raw: str, what: str, minimum: int, maximum: int) -> int:
    text = raw.strip().replace(",", "").replace(" ", "").replace("_", "")
    try:
        value = int(text)
    except ValueError as exc:
        raise InvalidValue(f"bad {what} {raw!r}: not a whole number") from exc
    if not minimum <= value <= maximum:
        raise InvalidValue(f"bad {what} {raw!r}: must be between {minimum:,} and {maximum:,}")
    return value


def parse_money(raw: str, what: str = "cost_aed") -> Decimal:
    text = raw.strip().upper().replace("AED", "").replace(",", "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise InvalidValue(f"bad {what} {raw!r}: not an amount") from exc
    if not value.is_finite() or value < 0 or value >= Decimal("100000000"):
        raise InvalidValue(f"bad {what} {raw!r}: must be between 0 and 99,999,999.99")
    return value.quantize(Decimal("0.01"))


def normalise_email(raw: str) -> str | None:
    text = raw.strip()
    if not text:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidValue(f"bad email {raw!r}: {exc}") from exc


def has_arabic_script(text: str) -> bool:
    return bool(_ARABIC_SCRIPT.search(text))


def normalise_language(raw: str, name: str = "") -> str:
    """'en'/'ar' (or the words for them); empty means: Arabic if the name is in Arabic script."""
    text = raw.strip().lower()
    if not text:
        return "ar" if has_arabic_script(name) else "en"
    language = _LANGUAGE_WORDS.get(text)
    if language is None:
        raise InvalidValue(f"bad language {raw!r}: use en or ar")
    return language


def clean_text(raw: str, what: str, max_length: int, required: bool = True) -> str | None:
    """Trim, normalise Unicode (NFC) and drop control characters; enforce presence and length."""
    text = unicodedata.normalize("NFC", raw)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()
    if not text:
        if required:
            raise InvalidValue(f"{what} is empty")
        return None
    if len(text) > max_length:
        raise InvalidValue(f"{what} is longer than {max_length} characters")
    return text
