"""The message catalog: every text in English and Arabic, the same placeholders, plural forms by CLDR."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from actions import registry  # noqa: F401  (texts still written in Python are registered on import)
from actions.kit import catalog as texts
from actions.kit.catalog import LANGUAGES, PLURAL_FORMS, catalog, placeholders, plural_form, read_dir, text

# What each language's plural rules need: Arabic has six categories, English two.
REQUIRED_FORMS = {"en": {"one", "other"}, "ar": {"zero", "one", "two", "few", "many", "other"}}


def test_every_text_exists_in_english_and_arabic_with_the_same_placeholders() -> None:
    entries = catalog()
    assert len(entries) > 350  # every domain's texts and the channels', not a part of them
    problems = []
    for key, entry in sorted(entries.items()):
        if set(entry) != set(LANGUAGES):
            problems.append(f"{key}: languages {sorted(entry)}")
            continue
        en, ar = entry["en"], entry["ar"]
        if isinstance(en, dict) != isinstance(ar, dict):
            problems.append(f"{key}: plural forms in one language only")
            continue
        if isinstance(en, dict):
            for language, forms in entry.items():
                missing = REQUIRED_FORMS[language] - set(forms)
                if missing:
                    problems.append(f"{key}: {language} lacks the plural forms {sorted(missing)}")
            # A form may leave out the number ("سيارة واحدة"), never another value.
            if placeholders(en) - {"count"} != placeholders(ar) - {"count"}:
                problems.append(f"{key}: placeholders {sorted(placeholders(en))} vs {sorted(placeholders(ar))}")
            continue
        if not en.strip() or not ar.strip():
            problems.append(f"{key}: an empty text")
        if placeholders(en) != placeholders(ar):
            problems.append(f"{key}: placeholders {sorted(placeholders(en))} vs {sorted(placeholders(ar))}")
        arabic_words = re.sub(r"\{[^}]*\}", "", ar)  # a pure format ("{day}: {hours}") has no words
        if re.search(r"[A-Za-z]{2,}", arabic_words) and not re.search(r"[\u0600-\u06ff]", arabic_words):
            problems.append(f"{key}: the Arabic text is not in Arabic")
    assert problems == []


def test_every_texts_folder_has_both_languages_with_the_same_keys() -> None:
    folders = texts.text_dirs()
    for folder in folders:
        keys = [set(yaml.safe_load((folder / f"{lang}.yml").read_text(encoding="utf-8")) or {}) for lang in LANGUAGES]
        assert keys[0] == keys[1], (folder, keys[0] ^ keys[1])


@pytest.mark.parametrize(
    ("count", "form"), [(0, "zero"), (1, "one"), (2, "two"), (3, "few"), (10, "few"), (11, "many"), (99, "many"), (100, "other"), (103, "few")]
)
def test_arabic_plural_categories_come_from_cldr(count: int, form: str) -> None:
    assert plural_form("ar", count) == form


def test_a_plural_text_picks_its_form_by_the_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "en.yml").write_text('cars:\n  one: "{count} car"\n  other: "{count} cars"\n', encoding="utf-8")
    (folder / "ar.yml").write_text(
        'cars:\n  zero: "لا سيارات"\n  one: "سيارة واحدة"\n  two: "سيارتان"\n  few: "{count} سيارات"\n'
        '  many: "{count} سيارة"\n  other: "{count} سيارة"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(texts, "CATALOG", {})
    monkeypatch.setattr(texts, "_loaded", True)
    texts._add(read_dir(folder), "test")
    assert [text("cars", "ar", count=n) for n in (0, 1, 2, 3, 11, 100)] == [
        "لا سيارات", "سيارة واحدة", "سيارتان", "3 سيارات", "11 سيارة", "100 سيارة"
    ]
    assert [text("cars", "en", count=n) for n in (1, 3)] == ["1 car", "3 cars"]
    with pytest.raises(ValueError, match="count="):
        text("cars", "en")


def test_a_plural_map_with_an_unknown_category_is_refused(tmp_path: Path) -> None:
    (tmp_path / "en.yml").write_text('cars:\n  single: "a car"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="forms other than"):
        read_dir(tmp_path)
    assert set(PLURAL_FORMS) >= REQUIRED_FORMS["ar"]
