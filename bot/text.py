"""Small text helpers shared by the core and the actions."""

from __future__ import annotations

import unicodedata

# Arabic-Indic and Persian digits, and the Arabic thousands and decimal separators, as ASCII.
_ASCII_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٬٫", "01234567890123456789,.")


def ascii_digits(text: str | None) -> str:
    """NFKC-normalised text with every digit and number separator in ASCII ("٤٥٬٠٠٠" → "45,000")."""
    return unicodedata.normalize("NFKC", text or "").translate(_ASCII_DIGITS)
