"""Reading a rating and a comment from what customers write: "4/5", "⭐⭐⭐⭐", "four stars", "٤ نجوم",
"rate it 4", and whether the rest of the message is a comment or a "no comment"."""

from __future__ import annotations

import re

from actions.kit.choice import words_of
from actions.kit.normalise import ascii_digits, has_any, norm, word_re

# A rating this low opens a complaint (actions.feedback.service).
LOW_RATING = 2

_STARS = re.compile(r"[⭐★🌟✩☆]")
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "واحد": 1, "واحدة": 1, "اثنين": 2, "اثنان": 2, "ثنتين": 2, "ثلاث": 3, "ثلاثة": 3, "اربع": 4, "أربع": 4,
    "اربعة": 4, "أربعة": 4, "خمس": 5, "خمسة": 5,
}
_WORD_NUMBER = "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True))
_RATING_PATTERNS = (
    re.compile(r"(?<![\d.])([1-5])\s*(?:/|out\s+of|من|على)\s*5(?!\d)", re.IGNORECASE),
    re.compile(r"(?<![\d.])([1-5])\s*(?:stars?|نجوم|نجمات|نجمة|نجمه)", re.IGNORECASE),
    re.compile(rf"(?<!\w)({_WORD_NUMBER})\s*(?:stars?|نجوم|نجمات|نجمة|نجمه)", re.IGNORECASE),
    re.compile(r"(?:نجمتين|نجمتان)"),
    re.compile(
        r"(?:rate|rated|rating|give|gave|giving|score|أعطي|اعطي|أعطيها|اعطيها|أعطيكم|اعطيكم|عطيتكم|أعطيتكم|"
        r"تقييم|تقييمي|أقيم|اقيم)\D{0,25}?(?<![\d.])([1-5])(?![\d.]*\d)",
        re.IGNORECASE,
    ),
)
_NO_COMMENT = {"no", "nope", "skip", "nothing", "no comment", "no thanks", "no thank you", "none", "that's all",
               "لا", "لا شكرا", "لا شكراً", "لا شيء", "لاشي", "لا شي", "بدون", "بدون تعليق", "مافي", "ما في", "خلاص"}
_FILLER = {
    "i", "id", "i'd", "im", "i'm", "would", "like", "to", "want", "wanna", "leave", "give", "gave", "some", "a", "an",
    "the", "my", "your", "you", "feedback", "rate", "rating", "review", "it", "is", "was", "service", "about", "for",
    "of", "on", "please", "stars", "star", "out", "and", "me", "let", "can", "how", "with", "visit", "experience",
    "أبي", "ابي", "أبغى", "ابغى", "أريد", "اريد", "ودي", "أعطي", "اعطي", "أعطيها", "اعطيها", "تقييم", "تقييمي",
    "ملاحظات", "ملاحظة", "رأيي", "رأي", "الخدمة", "خدمة", "على", "عن", "في", "من", "نجوم", "نجمة", "أقيم", "اقيم",
    "أعطيكم", "اعطيكم", "أترك", "اترك", "بخصوص", "الزيارة", "زيارتي", "تجربتي", "التجربة", "و",
}


def parse_rating(said: str | None, lenient: bool = False) -> int | None:
    """A 1-5 rating in a message: '4/5', '4 out of 5', '⭐⭐⭐⭐', 'four stars', '٤ نجوم', 'rate it 4'.
    Lenient (when the rating was just asked for): a message that is only a number 1-5 or its word."""
    said = ascii_digits(said).strip()
    stars = len(_STARS.findall(said))
    if 1 <= stars <= 5:
        return stars
    for pattern in _RATING_PATTERNS:
        match = pattern.search(said)
        if match is None:
            continue
        if not match.groups():
            return 2  # نجمتين: "two stars"
        value = match.group(1).lower()
        return _NUMBER_WORDS.get(value) or int(value)
    if lenient:
        bare = re.sub(r"[^\w\s]", " ", said.lower()).split()
        if len(bare) == 1:
            word = bare[0]
            if word.isdigit() and 1 <= int(word) <= 5:
                return int(word)
            if word in _NUMBER_WORDS:
                return _NUMBER_WORDS[word]
        digits = re.findall(r"(?<![\d.])\d+(?![\d.]*\d)", said)
        if len(digits) == 1 and 1 <= int(digits[0]) <= 5 and len(bare) <= 4:
            return int(digits[0])
    return None


_FILLER_NORM = frozenset(w for word in (*_FILLER, *_NUMBER_WORDS) for w in norm(word).split())
# Words that only strengthen a rating ("excellent, honestly", "ممتازة بصراحة"): not a comment.
_INTENSIFIERS = (
    "honestly", "really", "very", "so", "too", "truly", "totally", "absolutely", "quite", "bsra7a", "wallah",
    "walla", "wayed", "wayid", "wajid", "kteer", "ktir", "marra", "jiddan", "بصراحه", "صراحه", "جدا", "والله", "مره",
    "كثير", "وايد", "حيل", "الصراحه", "فعلا", "بجد",
)


def comment_in(said: str | None) -> str | None:
    """The message as a comment when it says something beyond the rating itself (its rating words, as the
    words file lists them, and words that only strengthen it do not count)."""
    bare = norm(said)
    for word in _INTENSIFIERS:
        bare = re.sub(word_re(word), " ", bare)
    content = [w for w in re.findall(r"[^\W\d_]+", bare) if w not in _FILLER_NORM]
    for word in (w for n in range(1, 6) for w in words_of(f"rating:{n}")):
        bare = re.sub(word_re(word), " ", bare)
    beyond = [w for w in re.findall(r"[^\W\d_]+", bare) if w not in _FILLER_NORM]
    # "great job" is a comment; "ممتازة بصراحة" (excellent, honestly) is only the rating.
    return (said or "").strip()[:5000] if len(content) >= 2 and beyond else None


_RATE_REQUEST = ("rate", "rating", "review", "feedback", "تقييم", "اقيم", "اقييم", "قيم", "ملاحظات", "aqayyim",
                 "aqaiyem", "taqyeem", "taqyim")


def asks_to_rate(said: str | None) -> bool:
    """A short request to give feedback ("I'd like to rate my last visit", "أود تقييم زيارتي الأخيرة")."""
    folded = norm(said)
    return has_any(folded, _RATE_REQUEST) and len(folded.split()) <= 10


def is_no_comment(said: str | None) -> bool:
    """An answer to "any comment?" that declines: empty, "no", "no thanks", "لا شكراً", "بدون تعليق"."""
    plain = " ".join(re.sub(r"[^\w\s']", " ", (said or "").strip().lower()).split())
    return not plain or plain in _NO_COMMENT
