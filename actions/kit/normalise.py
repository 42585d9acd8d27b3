"""Text normalisation for matching what customers write, in one place: digits, letter variants, words.

`norm` is what keyword and name matching compares: lower case, Western digits, Arabic letter variants
folded (أ إ آ ٱ → ا, ى → ي, ة → ه, ؤ → و, ئ → ي), harakat and tatweel dropped, punctuation as spaces.
`word_re` builds the pattern of a whole word or phrase, allowing the Arabic prefixes glued to a word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

# Arabic-Indic and Persian digits, and the Arabic thousands and decimal separators, as ASCII.
_ASCII_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٬٫", "01234567890123456789,.")
_ARABIC_MARKS = re.compile(r"[\u064b-\u0652\u0670\u0640]")  # harakat, dagger alef, tatweel
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
# Arabic prefixes glued to a word: "للباترول", "بالكامري", "والتيما".
AR_PREFIX = r"(?:وال|بال|لل|ال|و|ب|ل)?"


def ascii_digits(text: str | None) -> str:
    """NFKC-normalised text with every digit and number separator in ASCII ("٤٥٬٠٠٠" → "45,000")."""
    return unicodedata.normalize("NFKC", text or "").translate(_ASCII_DIGITS)


def fold(text: str | None) -> str:
    """Lower case, Western digits, Arabic letter variants folded and marks dropped; punctuation kept."""
    return _ARABIC_MARKS.sub("", ascii_digits(text).lower()).translate(_ARABIC_FOLD)


def norm(text: str | None) -> str:
    """`fold`, with punctuation as spaces and single spaces: what keyword matching compares."""
    return " ".join(re.sub(r"[^\w\s]", " ", fold(text)).split())


@cache
def word_re(word: str) -> str:
    """A whole word or phrase (with Arabic prefixes) in `norm`ed text; a trailing * allows any ending."""
    stem = word.endswith("*")
    return rf"(?<!\w){AR_PREFIX}{re.escape(norm(word.rstrip('*')))}" + ("" if stem else r"(?!\w)")


def has_any(said: str, words: Iterable[str]) -> bool:
    """Whether `norm`ed text contains any of the words (see word_re)."""
    return any(re.search(word_re(w), said) for w in words)


def word_count(said: str | None) -> int:
    """How many words a message has (letters or digits in a row; punctuation and emoji do not count)."""
    return len(re.findall(r"\w+", said or ""))
