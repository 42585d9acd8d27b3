"""What a trade-in message asks for, in words (pure functions of the `norm`ed or folded text)."""

from __future__ import annotations

import re

from actions.kit.normalise import fold, has_any, norm
from actions.leads.rules import parse_amount

# Mileage and budget bounds: outside them a number is not what was asked.
MAX_KM = 2_000_000
MIN_BUDGET, MAX_BUDGET = 5_000, 50_000_000

UPGRADE_HINTS = (
    "let me know", "notify*", "alert*", "waitlist", "wait list", "waiting list", "arriv*", "in stock",
    "into stock", "coming in", "upgrad*", "looking for", "swap*", "newer", "next car", "اعلمني", "علموني",
    "بلغني", "بلغوني", "خبروني", "خبرني", "نبهني", "نبهوني", "وصلكم", "يوصلكم", "توصل*", "يوصل*", "وصول",
    "ترقيه", "ابدل*", "احدث", "تبديل", "اغير سيارتي",
)
VALUATION_HINTS = (
    "worth", "value", "valu*", "evaluat*", "apprais*", "sell*", "buy my", "offer", "how much", "price for my",
    "cash", "part exchange", "trade in", "tradein", "trading in", "قيمه", "تقييم*", "تثمين", "ثمن", "ابيع*",
    "بيع*", "تشترون", "تشتري", "كم تعطوني", "كم تدفعون", "سعر سيارتي", "كم تسوي", "كم تسوى",
)
CONDITIONS = ("excellent", "good", "fair", "needs_work")
# Checked in this order: "not good" is needs_work before it is good.
CONDITION_WORDS = {
    "excellent": ("excellent", "perfect", "like new", "mint", "brand new", "ممتاز", "ممتازه", "كالجديد", "نظيف جدا",
                  "وكاله"),
    "needs_work": ("needs work", "damage", "damaged", "accident", "broken", "fault", "bad", "poor", "not working",
                   "يحتاج", "تحتاج", "حادث", "خربان", "عطل", "سيئ", "سيئه", "تعبانه", "متضرر"),
    "fair": ("fair", "average", "ok", "okay", "scratch", "scratches", "dent", "متوسط", "متوسطه", "مقبول",
             "مقبوله", "خدوش", "خدش"),
    "good": ("good", "fine", "great", "very good", "normal", "جيد", "جيده", "زين", "زينه", "كويس", "كويسه",
             "نظيف", "نظيفه", "عادي"),
}
NO_BUDGET = frozenset({"no limit", "none", "any", "no budget", "مفتوحه", "مفتوح", "بدون", "اي سعر"})
_BUDGET_CUE = re.compile(
    r"(under|below|less than|max|maximum|budget|up to|within|تحت|اقل من|حدود|ميزانيه|ميزانيتي|لحد)\s*"
    r"(of\s*)?(aed|dhs|dirhams?|درهم)?\s*\d"
)


def trade_mode(said: str) -> str | None:
    """"valuation" (what is my car worth), "upgrade" (tell me when a car arrives), or None."""
    if has_any(said, VALUATION_HINTS):
        return "valuation"
    if has_any(said, UPGRADE_HINTS):
        return "upgrade"
    return None


def condition_in(said: str) -> str | None:
    """The condition a `norm`ed description names ("a few scratches" → "fair"), or None."""
    return next((c for c, words in CONDITION_WORDS.items() if has_any(said, words)), None)


# A request says the condition in passing only next to one of these ("excellent condition", "حالتها ممتازة").
_CONDITION_CUES = ("condition", "shape", "accident*", "حاله", "حالتها", "حالته", "حادث", "7alat*", "7alt*")
_KM_CUES = ("km", "kms", "kilomet*", "odometer", "odo", "mileage", "كيلو", "كم عداد", "العداد", "عداد", "3dad")


def condition_stated(said: str) -> str | None:
    """The condition a `norm`ed first message states, only when it talks about the condition."""
    return condition_in(said) if has_any(said, _CONDITION_CUES) else None


def km_stated(text: str) -> bool:
    """Whether a message gives a distance (a number with km or the odometer), not only a price or a year."""
    folded = fold(text)
    if re.search(r"\d\s*(?:k|الف|الاف)?\s*(?:km|kms|كم|كيلو)", folded):
        return True
    return has_any(norm(text), _KM_CUES) and re.search(r"\d", folded) is not None


def plausible_km(km: int | None) -> bool:
    return km is not None and 0 <= km <= MAX_KM


def budget_in(text: str) -> int | None:
    """A budget stated with a cue in a longer message ("under 180,000 dirhams", "ميزانيتي 200 ألف")."""
    folded = fold(text)
    cue = _BUDGET_CUE.search(folded)
    amount = parse_amount(folded[cue.start():]) if cue else None
    return amount if amount is not None and MIN_BUDGET <= amount <= MAX_BUDGET else None


def no_budget(text: str) -> bool:
    """Whether the answer to "what is your budget?" is "no limit"."""
    return norm(text) in NO_BUDGET


def budget_answer(text: str) -> int | None:
    """The budget in an answer to "what is your budget?": "250k", "150" (meaning 150,000), else None."""
    amount = parse_amount(text)
    if amount is not None and 5 <= amount < MIN_BUDGET and re.search(r"\d", norm(text)):
        amount *= 1_000  # "150" means 150k when one talks about car prices
    return amount if amount is not None and MIN_BUDGET <= amount <= MAX_BUDGET else None
