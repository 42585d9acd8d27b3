"""The message catalog: every text a customer sees, in English and Arabic.

Handlers never write customer-facing text inline; they pick a key and pass the values. Each module
registers its own texts with `register({...})` at import time (actions/<domain>.py keeps its texts next
to its code); a test fails when any key lacks either language or the two disagree on placeholders.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "ar")

CATALOG: dict[str, dict[str, str]] = {}


def register(entries: dict[str, dict[str, str]]) -> None:
    """Add texts to the catalog; a key registered twice with different texts is a programming error."""
    for key, texts in entries.items():
        if key in CATALOG and CATALOG[key] != texts:
            raise ValueError(f"message key {key!r} registered twice with different texts")
        CATALOG[key] = texts


def text(key: str, language: str, **values: Any) -> str:
    """The catalog text for key in language ('en' when the language is not one we write)."""
    entry = CATALOG[key]
    return entry.get(language, entry["en"]).format(**values)

