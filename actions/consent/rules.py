"""Which way a consent request goes (stop or resume) and which kinds of message it names."""

from __future__ import annotations

from collections.abc import Mapping

from actions.kit.normalise import norm

KINDS = ("service_reminders", "appointment_reminders", "recall_notices", "feedback_surveys", "marketing")

# The proactive messages (scheduler.kinds) each consent allows. The end of the customer's own warranty
# is service information, not marketing: it goes to those who take service reminders. A message about the
# customer's own open case needs no consent and is in none; nor does a stock alert, which the customer
# asked for by saving an upgrade wish.
MESSAGE_KINDS: dict[str, tuple[str, ...]] = {
    "service_reminders": ("service_due", "warranty_expiry"),
    "appointment_reminders": ("appointment_reminder",),
    "recall_notices": ("recall_notice",),
    "feedback_surveys": ("feedback_survey",),
    "marketing": (),
}

# Words that ask for messages again; a stop word in the same message wins ("don't start again").
_ON_WORDS = {"start", "restart", "resume", "resubscribe", "again", "enable", "subscribe", "back", "reactivate"}
_ON_PHRASES = ("turn on", "switch on", "opt in", "opt back in", "send me again")
_ON_PREFIXES_AR = ("رجع", "ارجع", "ترجع", "يرجع", "اعيد", "اعاد", "فعل", "تفعيل", "شغل", "تشغيل",
                   "استانف", "استيناف", "ابدا", "ابدو", "ارسلوا", "رسلوا", "واصلوا", "كملوا")
_OFF_WORDS = {"stop", "unsubscribe", "don", "dont", "not", "no", "disable", "pause", "mute", "cancel",
              "quit", "block", "off", "never", "without", "remove", "لا", "بدون", "مابي", "مابغي", "ماابي"}
_OFF_PHRASES = ("opt out", "turn off", "switch off", " ما اب", " ما اريد", " ما ابغ", " مو ")
_OFF_PREFIXES_AR = ("وقف", "اوقف", "توقف", "ايقاف", "الغاء", "الغوا", "الغي", "كفايه", "بطل", "امنع", "منع")

# Words naming each kind (English substrings, Arabic token prefixes after folding).
_KIND_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "marketing": (("marketing", "offer", "promo", "advert", "newsletter", "news", "deals"),
                  ("تسويق", "التسويق", "عروض", "العروض", "اعلان", "الاعلان", "ترويج", "اخبار", "الاخبار")),
    "appointment_reminders": (("appointment", "booking"), ("موعد", "مواعيد", "الموعد", "المواعيد", "الحجز")),
    "service_reminders": (("maintenance", "service reminder", "servicing", "service due", "oil change"),
                          ("صيانه", "الصيانه")),
    "recall_notices": (("recall",), ("استدعاء", "الاستدعاء")),
    "feedback_surveys": (("survey", "feedback", "rating", "questionnaire"),
                         ("استبيان", "الاستبيان", "استطلاع", "تقييم", "التقييم")),
}
_ALL_WORDS = {"all", "everything", "كل", "كلها", "الكل", "جميع", "جميعها", "الجميع"}


def wants_them_back(text: str | None) -> bool:
    """True when the words ask to receive messages again rather than to stop them."""
    said = norm(text)
    tokens = said.split()
    padded = f" {said} "
    on = (
        any(t in _ON_WORDS for t in tokens)
        or any(p in padded for p in _ON_PHRASES)
        or any(t.startswith(_ON_PREFIXES_AR) for t in tokens)
    )
    off = (
        any(t in _OFF_WORDS for t in tokens)
        or any(p in padded for p in _OFF_PHRASES)
        or any(t.startswith(_OFF_PREFIXES_AR) for t in tokens)
    )
    return on and not off


def kinds_named(text: str | None) -> list[str]:
    """The kinds of message the words name, in KINDS order; all of them for "all"; [] for none."""
    said = norm(text)
    tokens = said.split()
    named = [
        kind
        for kind, (english, arabic) in _KIND_WORDS.items()
        if any(w in said for w in english) or any(t.startswith(arabic) for t in tokens)
    ]
    if not named and any(t in _ALL_WORDS for t in tokens):
        return list(KINDS)
    return [k for k in KINDS if k in named]


def changeable(consents: Mapping[str, bool], on: bool) -> list[str]:
    """The kinds (in KINDS order) whose consent a request to turn them `on` (or off) would change."""
    return [kind for kind in KINDS if bool(consents.get(kind)) != on]
