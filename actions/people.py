"""A person instead of the bot (hand-off), and which proactive messages a customer wants (consent).

`human_agent` opens a Handoff: staff are alerted, the customer is told when someone will answer (from the
opening hours of their branch, in the dealership's time zone), and the core keeps the bot quiet in the
conversation while the hand-off is open or claimed. Unknown senders may ask for a person too.

`stop_notifications` turns the Customer.consent_* flags off, per kind, after asking which kinds and
confirming; the same intent with words like "start", "resume" or "رجعوا" turns them back on (the NLU
has one intent for both directions, so the words decide). Recall notices are safety information: a
customer may stop them, but is warned first.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import general
from actions.registry import intent, step
from actions.turn import Turn
from bot.messages import register
from bot.types import Option, Reply
from db.models import Appointment, Branch, BranchHours, Customer, Handoff, ServiceRecord, Vehicle
from dealerbot.logging import get_logger

log = get_logger("actions.people")

# Staff answer a hand-off within this long while the branch is open; a request closer than this to
# closing time is promised for the next opening instead.
ANSWER_WITHIN = timedelta(minutes=30)

register(
    {
        # --- hand-off ---------------------------------------------------------------------------------
        "people_handoff_now": {
            "en": "I have passed this conversation to our team at {branch}. A colleague will answer you here "
            "within {minutes} minutes. Until then I will stay quiet, and anything you write goes straight "
            "to them.",
            "ar": "حوّلت هذه المحادثة إلى فريقنا في {branch}. سيرد عليك أحد زملائنا هنا خلال {minutes} دقيقة. "
            "حتى ذلك الحين سأبقى صامتاً، وكل ما تكتبه يصل إليهم مباشرة.",
        },
        "people_handoff_later": {
            "en": "Our team at {branch} is not at work right now. I have passed this conversation to them, and a "
            "colleague will answer you here {when}. Until then I will stay quiet, and anything you write "
            "goes to them. After a breakdown or an accident, call {emergency} at any time.",
            "ar": "فريقنا في {branch} خارج أوقات العمل الآن. حوّلت هذه المحادثة إليهم، وسيرد عليك أحد زملائنا "
            "هنا {when}. حتى ذلك الحين سأبقى صامتاً، وكل ما تكتبه يصل إليهم. في حال تعطل السيارة أو وقوع "
            "حادث، اتصل على {emergency} في أي وقت.",
        },
        "people_handoff_no_hours": {
            "en": "I have passed this conversation to our team; a colleague will answer you here as soon as "
            "possible. Until then I will stay quiet, and anything you write goes to them.",
            "ar": "حوّلت هذه المحادثة إلى فريقنا، وسيرد عليك أحد زملائنا هنا في أقرب وقت ممكن. حتى ذلك الحين "
            "سأبقى صامتاً، وكل ما تكتبه يصل إليهم.",
        },
        "people_handoff_unknown_hint": {
            "en": "As I could not find this number among our customers, please tell them your name and, if you "
            "have one, your car's plate number or VIN.",
            "ar": "بما أنني لم أجد هذا الرقم بين عملائنا، يرجى إخبارهم باسمك ورقم لوحة سيارتك أو رقم الشاصي "
            "إن وجد.",
        },
        "people_when_today": {"en": "today from {time}", "ar": "اليوم ابتداءً من الساعة {time}"},
        "people_when_tomorrow": {"en": "tomorrow from {time}", "ar": "غداً ابتداءً من الساعة {time}"},
        "people_when_day": {"en": "on {day} from {time}", "ar": "يوم {day} ابتداءً من الساعة {time}"},
        # --- notifications ------------------------------------------------------------------------------
        "people_kind_service_reminders": {"en": "Service reminders", "ar": "تذكيرات الصيانة"},
        "people_kind_appointment_reminders": {"en": "Appointment reminders", "ar": "تذكيرات المواعيد"},
        "people_kind_recall_notices": {"en": "Recall notices", "ar": "إشعارات الاستدعاء"},
        "people_kind_feedback_surveys": {"en": "Feedback surveys", "ar": "استبيانات الرأي"},
        "people_kind_marketing": {"en": "Offers and news (marketing)", "ar": "العروض والأخبار (التسويق)"},
        "people_kind_all": {"en": "All of these", "ar": "كل ما سبق"},
        "people_notif_which_off": {
            "en": "Which messages should I stop sending you?",
            "ar": "ما الرسائل التي تريد أن أوقف إرسالها إليك؟",
        },
        "people_notif_which_on": {
            "en": "Which messages should I send you again?",
            "ar": "ما الرسائل التي تريد أن أعيد إرسالها إليك؟",
        },
        "people_notif_which_again": {
            "en": "Sorry, I did not catch which ones. Please choose one of these:",
            "ar": "عذراً، لم أفهم أيّها تقصد. اختر أحد هذه الخيارات:",
        },
        "people_notif_none_on": {
            "en": "You already receive no reminders or marketing messages from us. To get them again, just "
            "write \"resume reminders\".",
            "ar": "لا تصلك منا حالياً أي تذكيرات أو رسائل تسويقية. لإعادتها، اكتب \"رجعوا التذكيرات\".",
        },
        "people_notif_all_on": {
            "en": "You already receive all our reminders and notices, and offers too. To stop any of them, "
            "write \"stop notifications\".",
            "ar": "تصلك حالياً كل تذكيراتنا وإشعاراتنا والعروض أيضاً. لإيقاف أي منها، اكتب \"أوقفوا الإشعارات\".",
        },
        "people_notif_already_off": {
            "en": "You already do not receive {kinds}.",
            "ar": "أنت بالفعل لا تستقبل {kinds}.",
        },
        "people_notif_already_on": {
            "en": "You already receive {kinds}.",
            "ar": "أنت بالفعل تستقبل {kinds}.",
        },
        "people_notif_recall_warning": {
            "en": "Please note: recall notices are safety information. A recall means the manufacturer found "
            "a part that may be unsafe and fixes it free of charge, so we strongly recommend keeping them.",
            "ar": "يرجى الانتباه: إشعارات الاستدعاء معلومات تخص السلامة. الاستدعاء يعني أن الشركة المصنّعة "
            "وجدت قطعة قد تكون غير آمنة وتصلحها مجاناً، لذلك ننصحك بشدة بالإبقاء عليها.",
        },
        "people_notif_confirm_off": {
            "en": "I will stop sending you: {kinds}. Shall I go ahead?",
            "ar": "سأوقف إرسال ما يلي إليك: {kinds}. هل أتابع؟",
        },
        "people_notif_confirm_on": {
            "en": "I will send you again: {kinds}. Shall I go ahead?",
            "ar": "سأعيد إرسال ما يلي إليك: {kinds}. هل أتابع؟",
        },
        "people_notif_confirm_again_off": {
            "en": "Please answer yes or no: shall I stop sending you {kinds}?",
            "ar": "يرجى الإجابة بنعم أو لا: هل أوقف إرسال {kinds} إليك؟",
        },
        "people_notif_confirm_again_on": {
            "en": "Please answer yes or no: shall I send you {kinds} again?",
            "ar": "يرجى الإجابة بنعم أو لا: هل أعيد إرسال {kinds} إليك؟",
        },
        "people_yes": {"en": "Yes", "ar": "نعم"},
        "people_no": {"en": "No, keep them as they are", "ar": "لا، اتركها كما هي"},
        "people_notif_done_off": {
            "en": "Done: you will no longer receive {kinds}. To get them again, just write \"resume reminders\".",
            "ar": "تم: لن تصلك بعد الآن {kinds}. لإعادتها، اكتب \"رجعوا التذكيرات\".",
        },
        "people_notif_done_on": {
            "en": "Done: you will receive {kinds} again. To stop them, write \"stop notifications\".",
            "ar": "تم: ستصلك {kinds} من جديد. لإيقافها، اكتب \"أوقفوا الإشعارات\".",
        },
        "people_notif_recall_after": {
            "en": "You can still ask me about recalls for your cars at any time, for example \"any recalls on my "
            "car?\".",
            "ar": "يمكنك دائماً أن تسألني عن حملات الاستدعاء لسياراتك، مثلاً \"هل على سيارتي استدعاء؟\".",
        },
        "people_notif_unchanged": {
            "en": "OK, I changed nothing: your notifications stay as they were.",
            "ar": "حسناً، لم أغيّر شيئاً: تبقى إشعاراتك كما كانت.",
        },
    }
)


# --- human_agent ---------------------------------------------------------------------------------------


@intent("human_agent")
def human_agent(turn: Turn) -> Reply:
    """Hand the conversation to staff; the core keeps the bot quiet until they release it."""
    turn.finish()
    turn.offer([])  # nothing offered before the hand-off may be picked by a number after it
    branch = customer_branch(turn.session, turn.customer)
    answer_at = next_answer_time(turn.session, branch, turn.now, turn.tz) if branch else None
    said = turn.message.text.strip()
    handoff = Handoff(
        channel_identity_id=turn.identity.id,
        customer_id=turn.customer.id if turn.customer else None,
        # The customer's own words for staff; a bare menu number says nothing.
        reason=said if re.search(r"[^\W\d_]", said) else None,
        status="open",
        created_at=turn.now,
    )
    turn.session.add(handoff)
    turn.session.flush()
    turn.alert_staff(
        "handoff",
        f"handoff:{handoff.id}",
        {
            "handoff_id": handoff.id,
            "channel": turn.identity.channel,
            "channel_identity_id": turn.identity.id,
            "customer_id": turn.customer.id if turn.customer else None,
            "customer_name": turn.customer.name if turn.customer else turn.identity.display_name,
            "language": turn.language,
            "reason": handoff.reason,
            "branch": branch.code if branch else None,
            "answer_by": (answer_at or turn.now + ANSWER_WITHIN).astimezone(UTC).isoformat(),
        },
    )
    log.info("handoff_opened", handoff_id=handoff.id, known=turn.customer is not None,
             branch=branch.code if branch else None)

    if branch is None or answer_at is None:
        message = turn.t("people_handoff_no_hours")
    else:
        name = branch.name_ar if turn.language == "ar" else branch.name_en
        if answer_at <= turn.now:
            message = turn.t("people_handoff_now", branch=name, minutes=int(ANSWER_WITHIN.total_seconds() // 60))
        else:
            message = turn.t(
                "people_handoff_later", branch=name, when=_when(turn, answer_at), emergency=branch.emergency_phone
            )
    if turn.customer is None:
        message = f"{message}\n{turn.t('people_handoff_unknown_hint')}"
    return Reply(message)


def customer_branch(session: Session, customer: Customer | None) -> Branch | None:
    """The branch that looks after the customer, else the main branch (the first one opened).

    The customer's branch is where they were seen last: their latest appointment, else their cars' latest
    service, else the branch that sold them their latest car.
    """
    branch_id = None
    if customer is not None:
        branch_id = session.scalar(
            select(Appointment.branch_id)
            .where(Appointment.customer_id == customer.id)
            .order_by(Appointment.starts_at.desc())
            .limit(1)
        )
        if branch_id is None:
            branch_id = session.scalar(
                select(ServiceRecord.branch_id)
                .join(Vehicle, Vehicle.id == ServiceRecord.vehicle_id)
                .where(Vehicle.customer_id == customer.id, ServiceRecord.branch_id.is_not(None))
                .order_by(ServiceRecord.service_date.desc(), ServiceRecord.id.desc())
                .limit(1)
            )
        if branch_id is None:
            branch_id = session.scalar(
                select(Vehicle.sold_by_branch_id)
                .where(Vehicle.customer_id == customer.id, Vehicle.sold_by_branch_id.is_not(None))
                .order_by(Vehicle.purchase_date.desc(), Vehicle.id.desc())
                .limit(1)
            )
    if branch_id is not None:
        return session.get(Branch, branch_id)
    return session.scalar(select(Branch).order_by(Branch.id).limit(1))


def next_answer_time(session: Session, branch: Branch, now: datetime, tz: ZoneInfo) -> datetime | None:
    """When staff can answer: `now` while the branch is open (with time to answer before closing),
    else the next opening; None when the branch has no opening hours at all."""
    periods: dict[int, list[tuple[time, time]]] = {}
    for hours in session.scalars(select(BranchHours).where(BranchHours.branch_id == branch.id)):
        periods.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
    if not periods:
        return None
    local = now.astimezone(tz)
    for offset in range(8):
        day: date = local.date() + timedelta(days=offset)
        for opens, closes in sorted(periods.get(day.weekday(), [])):
            start = datetime.combine(day, opens, tz)
            end = datetime.combine(day, closes, tz)
            if start <= local and local + ANSWER_WITHIN <= end:
                return now
            if start > local:
                return start
    return None


def _when(turn: Turn, at: datetime) -> str:
    local = at.astimezone(turn.tz)
    clock = local.strftime("%H:%M")
    days = (local.date() - turn.local_now.date()).days
    if days == 0:
        return turn.t("people_when_today", time=clock)
    if days == 1:
        return turn.t("people_when_tomorrow", time=clock)
    return turn.t("people_when_day", day=turn.t(f"weekday_{local.weekday()}"), time=clock)


# --- stop_notifications --------------------------------------------------------------------------------

FLOW = "stop_notifications"
KINDS = ("service_reminders", "appointment_reminders", "recall_notices", "feedback_surveys", "marketing")

_ARABIC_MARKS = re.compile(r"[\u064b-\u0652\u0670\u0640]")  # harakat, dagger alef, tatweel
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})

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


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_FOLD)
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def wants_them_back(text: str) -> bool:
    """True when the words ask to receive messages again rather than to stop them."""
    said = _fold(text)
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


def kinds_named(text: str) -> list[str]:
    """The kinds of message the words name, in KINDS order; all of them for "all"; [] for none."""
    said = _fold(text)
    tokens = said.split()
    named = [
        kind
        for kind, (english, arabic) in _KIND_WORDS.items()
        if any(w in said for w in english) or any(t.startswith(arabic) for t in tokens)
    ]
    if not named and any(t in _ALL_WORDS for t in tokens):
        return list(KINDS)
    return [k for k in KINDS if k in named]


def _consents(customer: Customer) -> dict[str, bool]:
    return {kind: bool(getattr(customer, f"consent_{kind}")) for kind in KINDS}


def _changeable(customer: Customer, on: bool) -> list[str]:
    """The kinds whose consent the request would change."""
    return [kind for kind, given in _consents(customer).items() if given != on]


def _names(turn: Turn, kinds: list[str]) -> str:
    names = [turn.t(f"people_kind_{kind}") for kind in kinds]
    if turn.language == "en":
        names = [n[0].lower() + n[1:] for n in names]
    if len(names) == 1:
        return names[0]
    if turn.language == "ar":
        return "، ".join(names[:-1]) + " و" + names[-1]
    return ", ".join(names[:-1]) + " and " + names[-1]


@intent("stop_notifications")
def stop_notifications(turn: Turn) -> Reply:
    if turn.customer is None:
        return general.need_customer(turn)
    on = wants_them_back(turn.message.text)
    changeable = _changeable(turn.customer, on)
    if not changeable:
        return turn.reply("people_notif_all_on" if on else "people_notif_none_on")
    named = kinds_named(turn.message.text)
    if named:
        chosen = [k for k in named if k in changeable]
        if not chosen:
            return turn.reply("people_notif_already_on" if on else "people_notif_already_off",
                              kinds=_names(turn, named))
        return _ask_confirm(turn, on, chosen)
    return _ask_kind(turn, on, "people_notif_which_on" if on else "people_notif_which_off")


def _ask_kind(turn: Turn, on: bool, key: str) -> Reply:
    changeable = _changeable(turn.customer, on)  # type: ignore[arg-type]
    options = [turn.option(f"kind:{kind}", f"people_kind_{kind}") for kind in changeable]
    if len(changeable) > 1:
        options.append(turn.option("kind:all", "people_kind_all"))
    turn.data = {"on": on}
    return turn.ask(FLOW, "kind", key, options)


@step(FLOW, "kind")
def choose_kind(turn: Turn) -> Reply:
    on = bool(turn.data.get("on"))
    changeable = _changeable(turn.customer, on)  # type: ignore[arg-type]
    if turn.selected is not None and turn.selected.id.startswith("kind:"):
        picked = turn.selected.id.removeprefix("kind:")
        chosen = changeable if picked == "all" else [picked]
    else:
        chosen = [k for k in kinds_named(turn.message.text) if k in changeable]
    chosen = [k for k in chosen if k in changeable]
    if not chosen:
        return _ask_kind(turn, on, "people_notif_which_again")
    return _ask_confirm(turn, on, chosen)


def _confirm_options(turn: Turn) -> list[Option]:
    return [turn.option("yes", "people_yes"), turn.option("no", "people_no")]


def _ask_confirm(turn: Turn, on: bool, kinds: list[str], again: bool = False) -> Reply:
    turn.data = {"on": on, "kinds": kinds}
    names = _names(turn, kinds)
    reply = turn.ask(
        FLOW,
        "confirm",
        f"people_notif_confirm{'_again' if again else ''}_{'on' if on else 'off'}",
        _confirm_options(turn),
        kinds=names,
    )
    if not on and "recall_notices" in kinds and not again:
        reply.text = f"{turn.t('people_notif_recall_warning')}\n{reply.text}"
    return reply


@step(FLOW, "confirm", keeps=("affirm", "deny"))
def confirm(turn: Turn) -> Reply:
    on = bool(turn.data.get("on"))
    kinds = [k for k in turn.data.get("kinds", []) if k in KINDS]
    answer = {True: "yes", False: "no", None: None}[turn.yes_no()]
    if not kinds:
        turn.finish()
        return turn.reply("people_notif_unchanged")
    if answer not in ("yes", "no"):
        return _ask_confirm(turn, on, kinds, again=True)
    turn.finish()
    if answer == "no":
        return turn.reply("people_notif_unchanged")
    customer = turn.customer
    assert customer is not None  # the flow starts only for customers
    for kind in kinds:
        setattr(customer, f"consent_{kind}", on)
    customer.updated_at = turn.now
    log.info("consent_changed", customer_id=customer.id, kinds=kinds, given=on)
    names = _names(turn, kinds)
    if on:
        return turn.reply("people_notif_done_on", kinds=names)
    reply = turn.reply("people_notif_done_off", kinds=names)
    if "recall_notices" in kinds:
        reply.text = f"{reply.text}\n{turn.t('people_notif_recall_after')}"
    return reply
