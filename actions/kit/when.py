"""Free-text dates and times as customers write them: "tomorrow after 6", "الأحد الساعة ١٠",
"next Sat morning", "باجر العصر".

dateparser alone misreads most of these (Gulf words, Arabic-Indic digits, day parts, "after N"), so
this module reads the parts it knows itself — day words, weekday names, day parts, "after/before N",
"at N", explicit day/month dates — and asks dateparser only for what is left (e.g. "3 December").
The result is a window, not a single instant: `When(day, start, end, exact)`; the slot engine then
offers the nearest slots that fit it. Times are the dealership's local time (Asia/Dubai).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from actions.kit.normalise import ascii_digits

_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "ـ": None, "،": ",", "؟": "?"})
_DIACRITICS = re.compile("[\u064b-\u0652\u0670]")


@dataclass(frozen=True)
class When:
    """What the customer asked for: a day (None: any day soon) and a time window (None: open)."""

    day: date | None = None
    start: time | None = None
    end: time | None = None
    # True for a specific time ("at 10"): offer the slots closest to `start` first.
    exact: bool = False

    @property
    def empty(self) -> bool:
        return self.day is None and self.start is None and self.end is None


def normalise(text: str) -> str:
    """Lower case, ASCII digits, folded Arabic letter variants, no diacritics, single spaces."""
    text = ascii_digits(text).lower()
    text = _DIACRITICS.sub("", text).translate(_ARABIC_FOLD)
    text = text.replace("٫", ":").replace("\u066b", ":")
    text = re.sub(r"[!?,;]+", " ", text)
    return " ".join(text.split())


# --- vocabulary (all in normalised form) ------------------------------------------------------------

_WEEKDAYS: dict[str, int] = {}
for _n, _names in enumerate(
    (
        # English, Arabic, then Arabizi ("yom el thulatha"; "el" is dropped with "yom" below).
        ("monday", "mon", "الاثنين", "اثنين", "الاتنين", "اتنين", "ithnain", "ithnein", "etnen", "itnen", "thnain"),
        ("tuesday", "tue", "tues", "الثلاثاء", "ثلاثاء", "الثلاثا", "الثلاثاء", "thulatha", "tholatha", "thalatha",
         "talat", "talata", "tlatha"),
        ("wednesday", "wed", "الاربعاء", "اربعاء", "الاربعا", "الربوع", "arba3a", "arb3a", "arbi3a", "arbaa", "arbe3a"),
        ("thursday", "thu", "thur", "thurs", "الخميس", "خميس", "khamis", "khamees", "5amis", "5amees"),
        ("friday", "fri", "الجمعه", "جمعه", "jum3a", "jom3a", "jumaa", "jumu3a", "jom3ah"),
        ("saturday", "sat", "السبت", "سبت", "sabt"),
        ("sunday", "sun", "الاحد", "احد", "الحد", "a7ad", "ahad", "el7ad"),
    )
):
    for _name in _names:
        _WEEKDAYS[_name] = _n

_RELATIVE_DAYS = (  # longest first: "day after tomorrow" before "tomorrow"
    (("the day after tomorrow", "day after tomorrow", "بعد بكره", "بعد باجر", "بعد بكرا", "بعد غد", "بعد الغد",
      "عقب باجر"), 2),
    (("tomorrow", "tmrw", "tmr", "tomorow", "tommorow", "بكره", "بكرا", "باجر", "باكر", "غدا", "الغد", "بكرة",
      "bukra", "bokra", "bukrah", "baachir", "bachir", "bacher", "baker"), 1),
    (("today", "tonight", "this evening", "this morning", "this afternoon", "اليوم", "الليله", "هالحين",
      "el yom", "al yom", "alyoum", "elyom"), 0),
)
_NEXT_WORDS = ("next", "coming", "this", "الجاي", "الياي", "القادم", "الجايه", "القادمه", "الياية", "الجاية",
               "el jay", "eljay", "el yay")

# Day parts: (words, start, end).
_DAY_PARTS = (
    (("early morning", "الفجر", "الصبح بدري", "بدري"), time(7, 0), time(9, 0)),
    (("morning", "am", "الصبح", "الصباح", "صباحا", "صباح", "الصبحيه", "الضحى", "الضحي", "sob7", "subh", "el sob7",
      "sabah", "el sba7"), time(7, 0), time(12, 0)),
    (("noon", "midday", "lunchtime", "lunch time", "الظهر", "ظهرا", "الظهريه", "الظهيره"), time(12, 0), time(14, 0)),
    (("afternoon", "العصر", "عصرا", "عصر", "بعد الظهر", "العصريه", "3asr", "el 3asr", "asr"), time(14, 0), time(18, 0)),
    (("evening", "tonight", "night", "pm", "المسا", "المساء", "مساء", "مسا", "الليل", "الليله", "بالليل", "ليلا",
      "masa", "masa2", "el masa", "bel leil"),
     time(17, 0), time(22, 0)),
)

_AFTER = ("after", "from", "later than", "بعد", "من بعد", "من", "ba3d", "baad", "min ba3d")
_BEFORE = ("before", "by", "until", "till", "قبل", "لين", "الين", "لغايه", "حتى", "gabl", "qabl", "9abl", "lain")
_AT = ("at", "around", "about", "@", "الساعه", "ساعه", "الساعة", "على", "عالساعه", "حوالي", "تقريبا",
       "el sa3a", "al sa3a", "sa3a", "elsa3a", "3la")

_SUFFIXES = r"am|pm|a\.m\.|p\.m\.|صباحا|مساءا|مساء|الصبح|العصر|المساء|المسا|الليل|ص|م"
_TIME = r"(\d{1,2})(?:[:.](\d{2}))?\s*(" + _SUFFIXES + r")?(?![\w])"


def _boundary(words: tuple[str, ...]) -> str:
    return r"(?:(?<![\w])(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?![\w]))"


def _hour(hour: int, minute: int, suffix: str | None, part: tuple[time, time] | None) -> time | None:
    """The clock time meant: a workshop is open 07:00-22:00, so a bare 1-6 is afternoon or evening."""
    if hour > 23 or minute > 59:
        return None
    pm_words = {"pm", "p.m.", "م", "مساء", "مساءا", "العصر", "المسا", "المساء", "الليل"}
    am_words = {"am", "a.m.", "ص", "صباحا", "الصبح"}
    if suffix in pm_words and hour < 12:
        hour += 12
    elif suffix in am_words and hour == 12:
        hour = 0
    elif suffix is None and hour <= 12:
        if part is not None and part[0] >= time(12, 0) and hour < 12:
            hour += 12
        elif part is None and 1 <= hour <= 6:
            hour += 12
    return time(hour % 24, minute)


def _resolve_day(text: str, today: date) -> tuple[date | None, str]:
    """The day named in text (relative words, weekdays, dates) and the text without it."""
    for words, offset in _RELATIVE_DAYS:
        match = re.search(_boundary(words), text)
        if match:
            return today + timedelta(days=offset), text[: match.start()] + " " + text[match.end():]
    weekday = re.search(
        r"(?:" + _boundary(_NEXT_WORDS) + r"\s+)?(?:(?:on|يوم|اليوم)\s+)?" + _boundary(tuple(_WEEKDAYS))
        + r"(?:\s+" + _boundary(_NEXT_WORDS) + r")?",
        text,
    )
    if weekday:
        name = next(w for w in sorted(_WEEKDAYS, key=len, reverse=True) if re.search(_boundary((w,)), weekday.group(0)))
        ahead = (_WEEKDAYS[name] - today.weekday()) % 7 or 7  # the coming one, never today
        return today + timedelta(days=ahead), text[: weekday.start()] + " " + text[weekday.end():]
    numeric = re.search(r"(?<![\d:])(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?(?![\d:])", text)
    if numeric:
        d, m = int(numeric.group(1)), int(numeric.group(2))
        y = int(numeric.group(3)) if numeric.group(3) else today.year
        y = y + 2000 if y < 100 else y
        try:
            day = date(y, m, d)
        except ValueError:
            day = None
        if day is not None:
            if day < today and not numeric.group(3):
                day = date(y + 1, m, d)
            return day, text[: numeric.start()] + " " + text[numeric.end():]
    month_date = _month_date(text, today)
    if month_date is not None:
        return month_date
    return None, text


_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
    "يناير": 1, "فبراير": 2, "مارس": 3, "ابريل": 4, "مايو": 5, "يونيو": 6, "يوليو": 7, "اغسطس": 8,
    "سبتمبر": 9, "اكتوبر": 10, "نوفمبر": 11, "ديسمبر": 12, "كانون الثاني": 1, "شباط": 2, "اذار": 3,
    "نيسان": 4, "ايار": 5, "حزيران": 6, "تموز": 7, "اب": 8, "ايلول": 9, "تشرين الاول": 10,
    "تشرين الثاني": 11, "كانون الاول": 12,
}


def _month_date(text: str, today: date) -> tuple[date, str] | None:
    """"3 December", "Dec 3rd", "٣ ديسمبر": dateparser reads these well once the rest is gone."""
    months = _boundary(tuple(_MONTHS))
    match = re.search(r"(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + months, text) or re.search(
        months + r"\s+(\d{1,2})(?:st|nd|rd|th)?(?!\s*[:.]\d)(?!\s*(?:am|pm))", text
    )
    if not match:
        return None
    import dateparser  # slow to import; only needed here

    parsed = dateparser.parse(
        match.group(0),
        languages=["en", "ar"],
        settings={"PREFER_DATES_FROM": "future", "RELATIVE_BASE": datetime.combine(today, time(12, 0))},
    )
    if parsed is None:
        return None
    day = parsed.date()
    if day < today:
        day = day.replace(year=day.year + 1)
    return day, text[: match.start()] + " " + text[match.end():]


# Greetings that name a part of the day without meaning a time ("مساء الخير" is "good evening").
_GREETINGS = re.compile(
    r"(?<!\w)(?:good (?:morning|afternoon|evening)|مساء الخير|مسا الخير|صباح الخير|صباح النور|مساء النور"
    r"|masa2? el (?:khair|khe?ir|5air|5eir)|saba7 el (?:khair|khe?ir|5air|5eir)|sabah el (?:khair|kheir))(?!\w)"
)
# Where a message names the day it wants after one it does not ("saturday I work, make it sunday", "a
# family thing tmrw evening, can we shift it to monday"): the day after the last of these counts.
_TARGET = re.compile(
    r"(?<!\w)(?:to|into|make it|instead|rather|اجعله|اجعلها|خليه|خليها|خلها|خله|خلي|الى|لـ|بدال|بدل|5aleeh|5aleeha"
    r"|khaleeh|khaleeha|5alli|khalli|ba3dain|badal)(?!\w)"
)


def parse_when(text: str, now: datetime) -> When | None:
    """The day and time window in `text` as of `now` (local time), or None if it names neither."""
    said = _GREETINGS.sub(" ", normalise(text))
    today = now.date()
    for target in reversed(list(_TARGET.finditer(said))):
        tail = said[target.end():]
        if _resolve_day(tail, today)[0] is not None:
            said = tail
            break
    day, rest = _resolve_day(said, today)

    part: tuple[time, time] | None = None
    for words, part_start, part_end in _DAY_PARTS:
        # Day parts are read from the whole text ("tonight" names a day and a part); "6 pm" or
        # "10 الصبح" is a time with a suffix, not a part of the day.
        found = [m for m in re.finditer(_boundary(words), said) if not re.search(r"\d\s*$", said[: m.start()])]
        if found:
            part = (part_start, part_end)
            for m in re.finditer(_boundary(words), rest):
                if not re.search(r"\d\s*$", rest[: m.start()]):
                    rest = rest[: m.start()] + " " * (m.end() - m.start()) + rest[m.end():]
            break

    start: time | None = None
    end: time | None = None
    exact = False
    after = re.search(_boundary(_AFTER) + r"\s*(?:" + _boundary(_AT) + r"\s*)?" + _TIME, rest)
    before = re.search(_boundary(_BEFORE) + r"\s*(?:" + _boundary(_AT) + r"\s*)?" + _TIME, rest)
    if after:
        start = _hour(int(after.group(1)), int(after.group(2) or 0), after.group(3), part)
        rest = rest[: after.start()] + " " + rest[after.end():]
    if before:
        end = _hour(int(before.group(1)), int(before.group(2) or 0), before.group(3), part)
        if start is None and end is not None and part is not None:
            start = part[0]
        rest = rest[: before.start()] + " " + rest[before.end():]
    span = re.search(
        r"(?<![\w/.:-])(\d{1,2})(?::(\d{2}))?\s*(?:-|–|to|الى|لين)\s*(\d{1,2})(?::(\d{2}))?\s*(" + _SUFFIXES + r")?(?![\w])",
        rest,
    ) if start is None and end is None else None
    if span is not None:  # "6-7pm", "from 5 to 7": the window, the suffix of the second for both
        start = _hour(int(span.group(1)), int(span.group(2) or 0), span.group(5) or None, part)
        end = _hour(int(span.group(3)), int(span.group(4) or 0), span.group(5) or None, part)
        if start is not None and end is not None and end <= start:
            start = end = None
    if start is None and end is None:
        # A digit inside a word is an Arabic letter in Arabizi ("na3am" is yes, not 3 am).
        at = re.search(r"(?:" + _boundary(_AT) + r"\s*)" + _TIME, rest) or re.search(
            r"(?<![\w/.-])" + r"(\d{1,2})(?:[:.](\d{2}))?\s*(" + _SUFFIXES + r")(?![\w])", rest
        ) or re.search(r"(?<![\w/.-])(\d{1,2})[:.](\d{2})()(?![\d])", rest)
        if at:
            start = _hour(int(at.group(1)), int(at.group(2) or 0), at.group(3) or None, part)
            exact = start is not None
        elif part is not None:
            start, end = part
        elif day is not None:
            bare = re.fullmatch(r"\s*(\d{1,2})\s*", rest)  # "tomorrow 10"
            if bare:
                start = _hour(int(bare.group(1)), 0, None, None)
                exact = start is not None
    elif part is not None and end is None and start is not None and start < part[1]:
        end = part[1]

    if day is None and start is None and end is None:
        return None
    return When(day=day, start=start, end=end, exact=exact)
