"""Reading a roadside message: shared coordinates, "we are safe", "someone is hurt", a usable place."""

from __future__ import annotations

import re
from collections.abc import Iterable

from actions.kit.normalise import fold, has_any

_NUM = r"(-?\d{1,3}(?:\.\d+)?)"
# A geo: URI (RFC 5870, what channel adapters pass for a shared location), a map link, or bare coordinates.
_GEO = re.compile(rf"(?:geo:|[?&](?:q|query|ll)=|@){_NUM}\s*,\s*{_NUM}")
_COORDS = re.compile(r"(-?\d{1,2}\.\d{3,})\s*[,;\s]\s*(-?\d{1,3}\.\d{3,})")
SAFE_WORDS = {
    "yes", "yes i am safe", "yes im safe", "i am safe", "im safe", "safe", "we are safe", "were safe", "ok",
    "okay", "fine", "i m safe", "we re safe", "all good", "نعم", "ايوه", "اي", "تمام", "بخير", "انا بخير",
    "نحن بخير", "الحمد لله", "الحمدلله", "نعم بخير", "نعم انا بخير", "سالم", "بامان", "انا بامان",
}
DANGER_WORDS = (
    "hurt*", "injur*", "bleed*", "unconscious", "fire", "smoke", "not safe", "danger*", "ambulance", "no",
    "help", "مصاب*", "اصاب*", "اصابه", "جرح*", "ينزف", "نزيف", "حريق", "دخان", "مو بامان", "لست بامان",
    "مب بامان", "خطر*", "اسعاف", "لا",
)


def coordinates(candidates: Iterable[str]) -> tuple[float, float] | None:
    """The first (lat, lng) in a `geo:` URI, a map link or "lat, lng" among the texts, else None."""
    for candidate in candidates:
        said = fold(candidate)
        match = _GEO.search(said) or _COORDS.search(said)
        if match is None:
            continue
        lat, lng = float(match.group(1)), float(match.group(2))
        if -90 <= lat <= 90 and -180 <= lng <= 180:
            return lat, lng
    return None


def is_coordinates(text: str) -> bool:
    """Whether the text carries coordinates (so a map link shows the place better than the text)."""
    said = fold(text)
    return bool(_GEO.search(said) or _COORDS.search(said))


def map_link(lat: float, lng: float) -> str:
    return f"https://maps.google.com/?q={lat:.6f},{lng:.6f}"


# "We are safe" inside a short message ("we r ok, just waiting in the shade", "no one is hurt, all fine").
SAFE_PHRASES = (
    "safe", "we r ok", "we are ok", "we re ok", "were ok", "im ok", "i m ok", "i am ok", "all ok", "all good",
    "all fine", "we are fine", "we re fine", "im fine", "i m fine", "i am fine", "no one hurt", "no one is hurt",
    "nobody hurt", "nobody is hurt", "not hurt", "بخير", "سالمين", "سالم", "بامان", "بأمان", "محد مصاب",
    "ما في اصابات", "مافي اصابات", "ما احد مصاب", "kolna b5air", "b5air", "bkhair", "salmeen",
)
_NOT_SAFE = ("not safe", "unsafe", "مو بامان", "لست بامان", "مب بامان", "مش بامان")
_NO_HARM = ("no one hurt", "no one is hurt", "nobody hurt", "nobody is hurt", "not hurt", "محد مصاب",
            "ما في اصابات", "مافي اصابات", "ما احد مصاب")


def says_safe(said: str, intent: str | None) -> bool:
    """"Yes, we are safe", alone or in a short message (`said` is `norm`ed)."""
    if said in SAFE_WORDS or (intent == "affirm" and len(said.split()) <= 4):
        return True
    if len(said.split()) > 8 or has_any(said, _NOT_SAFE):
        return False
    unharmed = said
    for phrase in _NO_HARM:
        unharmed = unharmed.replace(phrase, " ")
    danger = has_any(unharmed, tuple(w for w in DANGER_WORDS if w not in ("no", "لا")))
    return has_any(said, SAFE_PHRASES) and not danger


def says_danger(said: str, intent: str | None) -> bool:
    """A short "someone is hurt" / "no, not safe" (`said` is `norm`ed)."""
    words = len(said.split())
    return (words <= 6 and has_any(said, DANGER_WORDS)) or (intent == "deny" and words <= 4)


def names_no_place(said: str) -> bool:
    """Too short or without letters to be a place (`said` is `norm`ed): "?", "1", "ok"."""
    return len(said) < 3 or not re.search(r"[^\W\d_]{2,}", said)
