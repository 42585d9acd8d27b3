"""The message catalog: every text a customer sees, in English and Arabic.

Handlers never write customer-facing text inline; they pick a key and pass the values. The texts live in
data files a translator can edit without reading Python: `texts/en.yml` and `texts/ar.yml` beside the
code of each domain (`actions/<domain>/texts/`) and of the channels (`bot/texts/`). A file maps keys to
texts with `{placeholders}`; a text that depends on a number maps CLDR plural categories to texts:

    cars_found:
      zero: لا توجد سيارات
      one: سيارة واحدة
      two: سيارتان
      few: "{count} سيارات"
      many: "{count} سيارة"
      other: "{count} سيارة"

and is picked with `text("cars_found", "ar", count=11)` (Babel's plural rules: 11 → "many").
The catalog is read from the files the first time a text is asked for; a test proves every key exists in
both languages with the same placeholders. (A test's own throwaway texts go in with `register({...})`.)
"""

from __future__ import annotations

import string
import threading
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from babel import Locale

LANGUAGES = ("en", "ar")
PLURAL_FORMS = ("zero", "one", "two", "few", "many", "other")

# key → language → a text, or a mapping plural category → text.
Entry = dict[str, "str | dict[str, str]"]

_ROOT = Path(__file__).resolve().parents[2]
CATALOG: dict[str, Entry] = {}
_loaded = False
_lock = threading.Lock()


def text_dirs() -> list[Path]:
    """Every `texts/` folder of the domains, the channels (and the staff console), and the scheduler."""
    return sorted({*_ROOT.glob("actions/*/texts"), *_ROOT.glob("bot/texts"), *_ROOT.glob("bot/*/texts"),
                   *_ROOT.glob("scheduler/texts")})


def read_dir(folder: Path) -> dict[str, Entry]:
    """The entries of one `texts/` folder: {key: {"en": ..., "ar": ...}}."""
    entries: dict[str, Entry] = {}
    for language in LANGUAGES:
        path = folder / f"{language}.yml"
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        for key, value in (data or {}).items():
            if not isinstance(value, (str, dict)):
                raise ValueError(f"{path}: {key} is neither a text nor plural forms")
            if isinstance(value, dict) and not set(value) <= set(PLURAL_FORMS):
                raise ValueError(f"{path}: {key} has forms other than {PLURAL_FORMS}: {sorted(value)}")
            entries.setdefault(str(key), {})[language] = value
    return entries


def _add(entries: dict[str, Entry], origin: str) -> None:
    for key, texts in entries.items():
        if key in CATALOG and CATALOG[key] != texts:
            raise ValueError(f"message key {key!r} defined twice with different texts ({origin})")
        CATALOG[key] = texts


def catalog() -> dict[str, Entry]:
    """The whole catalog, read from the data files on first use."""
    global _loaded
    if not _loaded:
        with _lock:
            if not _loaded:
                for folder in text_dirs():
                    _add(read_dir(folder), str(folder))
                _loaded = True
    return CATALOG


def register(entries: dict[str, dict[str, str]]) -> None:
    """Add texts written in Python (a test's own throwaway flow)."""
    _add(entries, "register()")


@cache
def _plural_rule(language: str) -> Any:
    return Locale.parse(language).plural_form


def plural_form(language: str, count: int | float) -> str:
    """The CLDR plural category of `count` in `language` (ar: 0 zero, 1 one, 2 two, 3–10 few, 11–99 many)."""
    return _plural_rule(language)(abs(count))


def text(key: str, language: str, **values: Any) -> str:
    """The catalog text for key in language ('en' when the language is not one we write)."""
    entry = catalog()[key]
    chosen = entry.get(language) or entry["en"]
    if isinstance(chosen, dict):
        if "count" not in values:
            raise ValueError(f"message {key!r} has plural forms: pass count=")
        form = plural_form(language if language in entry else "en", values["count"])
        chosen = chosen.get(form) or chosen["other"]
    return chosen.format(**values)


def placeholders(entry_text: str | dict[str, str]) -> set[str]:
    """The names of the {placeholders} of a text (of all its plural forms)."""
    forms = entry_text.values() if isinstance(entry_text, dict) else [entry_text]
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}
