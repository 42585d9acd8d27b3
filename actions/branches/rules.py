"""Which branch a text names, which branch is nearest to a point: pure functions of Branch rows."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from actions.kit.normalise import norm
from db.models import Branch, Vehicle

# Places a customer may name → the code of the branch that serves them (the demo group's branches).
PLACES: dict[str, tuple[str, ...]] = {
    "abu-dhabi": (
        "abu dhabi", "abudhabi", "ابوظبي", "ابو ظبي", "mussafah", "musaffah", "مصفح", "khalifa city",
        "مدينه خليفه", "mbz", "mohammed bin zayed city", "yas", "ياس", "reem island", "جزيره الريم", "ruwais",
        "الرويس", "shahama", "الشهامه", "baniyas", "بني ياس", "al raha", "الراحه", "al ain", "العين", "alain",
    ),
    "sharjah": (
        "sharjah", "الشارقه", "ajman", "عجمان", "umm al quwain", "ام القيوين", "ras al khaimah", "rak",
        "راس الخيمه", "fujairah", "الفجيره", "khor fakkan", "خورفكان", "dhaid", "الذيد", "al nahda sharjah",
        "muwaileh", "مويلح",
    ),
    "dubai": (
        "dubai", "دبي", "al quoz", "القوز", "deira", "ديره", "bur dubai", "بر دبي", "jbr", "jlt", "marina",
        "المارينا", "al barsha", "البرشاء", "البرشا", "mirdif", "مردف", "qusais", "القصيص", "jebel ali",
        "جبل علي", "hatta", "حتا", "karama", "الكرامه", "silicon oasis", "business bay", "الخليج التجاري",
        "downtown", "umm suqeim", "ام سقيم", "jumeirah", "جميرا", "al nahda dubai", "szr", "sheikh zayed road",
        "شارع الشيخ زايد",
    ),
}


def branch_name(branch: Branch, language: str) -> str:
    return branch.name_ar if language == "ar" else branch.name_en


def branch_city(branch: Branch, language: str) -> str:
    return branch.city_ar if language == "ar" else branch.city_en


def branch_address(branch: Branch, language: str) -> str:
    return branch.address_ar if language == "ar" else branch.address_en


def map_url(branch: Branch) -> str:
    return f"https://maps.google.com/?q={Decimal(branch.latitude):f},{Decimal(branch.longitude):f}"


def _says(said: str, names: Iterable[str]) -> bool:
    """Whether `norm`ed text says one of the names as a whole word ("بدبي", "في الشارقة" count)."""
    return any(
        re.search(rf"(?<!\w)(?:ال|ب|في|و)?{re.escape(norm(n))}(?!\w)", said) for n in names if norm(n)
    )


def branch_named(branches: Sequence[Branch], text: str | None, codes: Iterable[str] = ()) -> Branch | None:
    """The branch a message names: a branch code the NLU found, else its city, name or a place it serves."""
    by_code = {b.code: b for b in branches}
    for code in codes:
        if code in by_code:
            return by_code[code]
    said = norm(text)
    if not said:
        return None
    for branch in branches:
        if _says(said, (branch.code.replace("-", " "), branch.city_en, branch.city_ar, branch.name_en,
                        branch.name_ar)):
            return branch
    for code, places in PLACES.items():
        if code in by_code and _says(said, places):
            return by_code[code]
    return None


def distance_km(branch: Branch, lat: float, lng: float) -> float:
    """Great-circle distance from a point to the branch."""
    phi1, phi2 = math.radians(lat), math.radians(float(branch.latitude))
    dphi, dlmb = phi2 - phi1, math.radians(float(branch.longitude) - lng)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(a))


def nearest(branches: Sequence[Branch], lat: float, lng: float) -> Branch | None:
    return min(branches, key=lambda b: distance_km(b, lat, lng)) if branches else None


def home_branch_id(vehicles: Iterable[Vehicle]) -> int | None:
    """The branch that sold the customer's (first) car; None without one."""
    return next((v.sold_by_branch_id for v in vehicles if v.sold_by_branch_id is not None), None)
