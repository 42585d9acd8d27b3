"""What a parts message says: the part wanted, original or aftermarket (pure functions of `norm`ed text)."""

from __future__ import annotations

import re

from actions.kit.normalise import has_any, norm, word_re

PREFERENCES = ("oem", "aftermarket", "either")
# Checked in this order: "original or aftermarket, both" is either, "not original" is aftermarket.
PREFERENCE_WORDS = {
    "either": ("either", "both", "any", "compare", "whichever", "doesn t matter", "الاثنين", "الثنين", "كلاهما",
               "ايهما", "اي واحد", "ما يفرق", "مو مهم", "ay wa7ed", "ay wahed", "ma yfre2", "mayfr2", "ma yfrq"),
    "aftermarket": ("aftermarket", "after market", "non genuine", "non original", "not original", "copy",
                    "cheaper", "commercial", "تجاري", "تجاريه", "كوبي", "غير اصلي", "غير اصليه", "ارخص", "tijari",
                    "tejari", "tjari", "mu asli", "mo asli", "ghair asli", "gher asli", "arkhas"),
    "oem": ("genuine", "original", "oem", "agency", "اصلي", "اصليه", "وكاله", "الوكاله", "asli", "asliya", "aslee",
            "wakala", "wakaala"),
}
# Words of a parts request that name no part ("I want to order spare parts for my car, please").
_STOPWORDS = {norm(w) for w in (
    "i", "im", "i'm", "id", "i'd", "need", "needs", "want", "wanna", "would", "like", "to", "order", "buy", "get",
    "a", "an", "the", "some", "any", "new", "spare", "spares", "part", "parts", "for", "my", "me", "car", "please",
    "pls", "can", "could", "you", "from", "your", "do", "does", "sell", "online", "is", "it", "are", "available",
    "how", "much", "price", "prices", "of", "with", "and", "or", "in", "stock", "have", "we", "there", "replacement",
    "what", "which", "where", "on", "at", "one", "vehicle", "hi", "hello", "fine", "only", "quote", "cost",
    "ابغى", "ابغي", "ابي", "ابا", "اريد", "بغيت", "اطلب", "ابغا", "طلب", "قطع", "قطعه", "غيار", "سيارتي", "السياره",
    "سياره", "لسيارتي", "للسياره", "من", "عندكم", "عندك", "ممكن", "لو", "سمحت", "في", "على", "الى", "هل", "كم",
    "سعر", "متوفر", "متوفره", "جديد", "جديده", "لي", "عن", "مع", "و", "او", "يا", "شي", "اون", "لاين", "اونلاين",
    "مرحبا", "السلام", "عليكم", "ابغي", "احتاج", "نحتاج", "اشتري", "شراء",
)}


def names_part(said: str) -> bool:
    """Whether `norm`ed text without car names names a part, beyond "I want spare parts for my car"."""
    for words in PREFERENCE_WORDS.values():
        for word in words:
            said = re.sub(word_re(word), " ", said)
    return any(w not in _STOPWORDS and not w.isdigit() and len(w) >= 2 for w in said.split())


def preference(said: str) -> str | None:
    """"oem", "aftermarket" or "either" as a `norm`ed message says it, else None."""
    return next((p for p, words in PREFERENCE_WORDS.items() if has_any(said, words)), None)
