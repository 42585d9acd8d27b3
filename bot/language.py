"""Which language to answer in: Arabic-script text → Arabic, other words → English, else unchanged."""

from __future__ import annotations

import re
import unicodedata

from db.validation import has_arabic_script
from nlu.trainingdata import looks_arabizi

_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Explicit switches; the whole message must be one of these.
_SWITCH = {
    "english": "en",
    "in english": "en",
    "english please": "en",
    "انجليزي": "en",
    "إنجليزي": "en",
    "الانجليزية": "en",
    "الإنجليزية": "en",
    "arabic": "ar",
    "in arabic": "ar",
    "arabic please": "ar",
    "عربي": "ar",
    "العربية": "ar",
    "بالعربي": "ar",
}


def switch_request(text: str) -> str | None:
    """The language a message asks for ("English", "عربي"), or None when it asks for none."""
    key = " ".join(unicodedata.normalize("NFC", text).lower().strip(" .!?؟").split())
    return _SWITCH.get(key)


# Replies everyone writes in Latin letters whatever language they read ("ok", "yes", "no"), and Arabizi
# yes and no ("la", "na3am", "aywa"): alone they keep the customer's language.
_NEUTRAL = frozenset({
    "ok", "okay", "okk", "kk", "yes", "yeah", "yep", "no", "nope", "la", "laa", "na", "naam", "aywa", "aiwa", "ee",
    "eh", "tamam",
})
_DIGITS = str.maketrans("", "", "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹")


def detect(text: str, current: str, known: bool = True) -> str:
    """The reply language for a message: Arabic script → Arabic, English words → English. Digits
    (Arabic-Indic too), emoji and option numbers keep the current one, and so does Arabizi (Arabic in
    Latin letters, "3ndi moshkela"): its writers read Arabic, and a customer who chose English keeps
    English; an unknown sender (`known` False) writing Arabizi is answered in Arabic."""
    if has_arabic_script(text.translate(_DIGITS)):
        return "ar"
    words = {w.lower() for w in _LATIN_WORD.findall(text)}
    if words and not words <= _NEUTRAL and not looks_arabizi(text):
        return "en"
    if not known and words and looks_arabizi(text):
        return "ar"  # someone we know nothing of who writes Arabizi reads Arabic
    return current
