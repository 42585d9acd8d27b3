"""Warranty rules, without a database or a conversation: the components a contract names and the words
customers use for them, why a part is not covered, when cover has ended, and the same-day rule of urgent
cases (warranty claims and safety complaints share it; actions.complaints builds on this module).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

from actions.kit.catalog import text
from actions.kit.normalise import norm, word_re
from db.models import WarrantyClaim

# Component codes, as in the warranty contracts and the NLU's `component` entity; their names are the texts
# `warranty_component_<code>`.
COMPONENTS = (
    "engine", "transmission", "electrical", "cooling", "fuel_system", "steering", "turbo", "air_conditioning",
    "suspension", "brakes", "infotainment", "tyres", "brake_pads", "brake_discs", "wiper_blades", "battery",
    "bodywork", "upholstery", "glass", "accident_damage", "wear_and_tear",
)

# Words for a component in free text, most specific first ("brake pads" before "brakes", "AC not cooling"
# is the air conditioning, not the engine cooling).
_COMPONENT_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("air_conditioning", ("ac", "a/c", "a.c", "aircon", "air con", "air conditioning", "air conditioner",
                          "مكيف", "المكيف", "التكييف", "تكييف", "المكيّف", "mokayef", "mokayif", "mukayif",
                          "mukayyif", "mkayef", "mkayyef", "mukayef", "takyeef", "takyif", "tekyeef")),
    ("brake_pads", ("brake pads", "brake pad", "pads", "فحمات", "الفحمات")),
    ("brake_discs", ("brake discs", "brake disc", "discs", "rotors", "ديسكات", "الديسكات", "أقراص الفرامل",
                     "اقراص الفرامل")),
    ("wiper_blades", ("wiper", "wipers", "wiper blades", "مساحات", "المساحات", "مساحة")),
    ("accident_damage", ("accident", "collision", "crash", "حادث", "الحادث", "صدمة")),
    ("wear_and_tear", ("wear and tear", "استهلاك", "الاستهلاك")),
    ("transmission", ("transmission", "gearbox", "gear box", "gears", "gear", "ناقل الحركة", "القير", "الجير",
                      "جير", "قير", "geer", "jeer", "qeer")),
    ("turbo", ("turbo", "turbocharger", "تيربو", "التيربو", "تربو", "التربو")),
    ("fuel_system", ("fuel pump", "fuel system", "injector", "injectors", "fuel", "مضخة البنزين", "طرمبة البنزين",
                     "البنزين", "الوقود", "بخاخات", "البخاخات")),
    ("cooling", ("cooling", "radiator", "overheating", "overheats", "overheat", "coolant", "water pump", "رديتر",
                 "الرديتر", "الراديتر", "تبريد", "التبريد", "حرارة المحرك", "يسخن", "ترتفع الحرارة")),
    ("engine", ("engine", "محرك", "المحرك", "مكينة", "المكينة", "الماكينة", "ماكينة", "makina", "mekina",
                "mo7arek", "mo7arrek", "moharek", "mu7arrik")),
    ("steering", ("steering", "power steering", "دركسون", "الدركسون", "التوجيه", "الستيرنج")),
    ("suspension", ("suspension", "shock absorber", "shock absorbers", "shocks", "مساعدات", "المساعدات",
                    "التعليق", "المقصات")),
    ("brakes", ("brake", "brakes", "abs", "فرامل", "الفرامل", "بريك", "البريك", "breek", "faramel", "faramil",
                "fraamel", "frameel")),
    ("tyres", ("tyre", "tyres", "tire", "tires", "كفر", "كفرات", "الكفرات", "إطار", "إطارات", "الإطارات", "اطارات",
               "الاطارات", "تواير", "kafarat", "kfarat", "tawayer", "twayer")),
    ("battery", ("battery", "بطارية", "البطارية", "بطاريه", "البطاريه", "battariya", "betariya", "batteriya",
                 "btarya")),
    ("glass", ("glass", "windscreen", "windshield", "window", "زجاج", "الزجاج", "القزاز")),
    ("bodywork", ("body", "bodywork", "paint", "dent", "scratch", "rust", "صبغ", "الصبغ", "طلاء", "الطلاء",
                  "الهيكل", "خدش", "صدأ")),
    ("upholstery", ("seat", "seats", "upholstery", "leather", "مقاعد", "المقاعد", "الجلد", "التنجيد", "الفرش")),
    ("infotainment", ("screen", "infotainment", "radio", "navigation", "carplay", "bluetooth", "speakers",
                      "الشاشة", "شاشة", "الراديو", "الملاحة", "السماعات")),
    ("electrical", ("electrical", "electric", "electrics", "wiring", "alternator", "starter", "كهرباء",
                    "الكهرباء", "كهربائي", "الدينمو", "السلف", "kahraba", "ka7raba")),
)

_WEAR = {"tyres", "brake_pads", "brake_discs", "wiper_blades", "battery", "wear_and_tear"}
_BODY = {"bodywork", "upholstery", "glass"}

# Urgent cases (warranty claims, safety complaints) get an answer the same day: by SAME_DAY_BY (local time)
# when they arrive before SAME_DAY_CUTOFF, else by NEXT_DAY_BY the next morning (no one promises an answer
# at midnight for a message sent at 22:00).
SAME_DAY_BY = time(21, 0)
SAME_DAY_CUTOFF = time(17, 0)
NEXT_DAY_BY = time(12, 0)

# Words that make a case a safety issue (English, Arabic, Arabizi).
_SAFETY_EN = (
    r"brakes?\s+(?:are\s+|is\s+)?(?:fail|failed|failing|not\s+working|don'?t\s+work|stopped\s+working|gone)|"
    r"brake\s+failure|no\s+brakes|fire|flames?|smoke|smoking|burning|airbags?|air\s+bags?|"
    r"steering\s+(?:lock|locked|locks|fail|failed|failing)|wheel\s+(?:came|come|fell)\s+off|unsafe|dangerous|"
    r"accident|stuck|stranded|broke\s+down|breakdown|tow|towing"
)
# Arabic words may carry the prefixes و/ف/ب and the article (وال/بال/لل).
_SAFETY_AR = (
    r"حريق|احترق\w*|احتراق|نار|دخان|يدخن|وسادة\s+(?:ال)?هوائية|وسائد\s+(?:ال)?هوائية|ايرباق|إيرباق|ايرباج|"
    r"فرامل\s+(?:ما\s+|لا\s+)?(?:تشتغل|تعمل|فشلت|خربت|فلتت|سايبة)|فشل\s+(?:ال)?فرامل|بريك\s+(?:ما\s+)?(?:يشتغل|فلت)|"
    r"خطير|خطيرة|خطر|حادث|دركسون\s+(?:علق|انقفل|ثقيل)|عالق|علقت|سطحة|ونش|"
    r"(?:تعطلت|وقفت|خربت)\s+(?:بي\s+|فيني\s+)?(?:في|ب|على)\s*(?:ال)?(?:طريق|شارع)"
)
_SAFETY = re.compile(
    rf"(?<!\w)(?:{_SAFETY_EN})(?!\w)|(?<![\u0621-\u064a])(?:[وفب]|لل)?(?:ال)?(?:{_SAFETY_AR})(?![\u0621-\u064a])",
    re.IGNORECASE,
)


def is_safety(said: str | None) -> bool:
    """Whether a description tells of a safety issue (failing brakes, smoke, an accident, stranded)."""
    return bool(_SAFETY.search(said or ""))


def same_day_deadline(now: datetime, tz: tzinfo) -> datetime:
    """When an urgent case arriving at `now` must be answered: the same day, or the next morning for one
    that arrives late in the evening; in `now`'s time zone."""
    local = now.astimezone(tz)
    if local.time() < SAME_DAY_CUTOFF:
        due = datetime.combine(local.date(), SAME_DAY_BY, tz)
    else:
        due = datetime.combine(local.date() + timedelta(days=1), NEXT_DAY_BY, tz)
    return due.astimezone(now.tzinfo)


def component_in_text(said: str | None) -> str | None:
    """The component code the words of a message name, the most specific first ("والمكيف؟" is the AC:
    Arabic prefixes glued to a word are allowed)."""
    folded = norm(said)
    for code, words in _COMPONENT_WORDS:
        if any(re.search(word_re(word), folded) for word in words):
            return code
    return None


def component_label(code: str, language: str) -> str:
    """A component's name; a part the customer described ("other: the sunroof motor") in their words."""
    if code in COMPONENTS:
        return text(f"warranty_component_{code}", language)
    return code.removeprefix("other:").strip().replace("_", " ")


def exclusion_reason(code: str) -> str:
    """Why a contract leaves a part out: "wear", "body", "accident" or "terms" (texts `warranty_why_<reason>`)."""
    if code in _WEAR:
        return "wear"
    if code in _BODY:
        return "body"
    if code == "accident_damage":
        return "accident"
    return "terms"


def cover_ended(end_date: date, mileage_limit_km: int, on: date, reading_km: int | None) -> str | None:
    """None while the cover runs; "date" or "km" for what ended it first (whichever comes first)."""
    if end_date < on:
        return "date"
    if reading_km is not None and reading_km > mileage_limit_km:
        return "km"
    return None


def claim_next(claim: WarrantyClaim) -> tuple[str | None, datetime | None]:
    """The claim's next deadline: our answer while it waits for review, else none."""
    if claim.status in ("open", "in_review") and claim.responded_at is None:
        return "answer", claim.respond_by
    return None, None
