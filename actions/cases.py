"""Complaints (C-<n>), the status of claims and complaints, and feedback ratings.

Also the small helpers the warranty module shares with these: times in Dubai for the customer, the
same-day deadline of urgent cases, the customer's vehicles as options.

SLA of a complaint (DIGEST "Customer service and communication"): acknowledged at once (the bot's answer
is the acknowledgement), a substantive answer within `settings.complaint_response_hours`, safety issues
the same day. Warranty claims share the same-day rule (actions/warranty.py).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select

from actions import general
from actions.registry import SWITCH_CONFIDENCE, intent, step
from actions.turn import Turn, split_intent_option
from bot.messages import register
from bot.types import Option, Reply
from db.models import Appointment, CaseNote, Complaint, Feedback, Vehicle, WarrantyClaim
from dealerbot.logging import get_logger
from bot.text import ascii_digits

log = get_logger("actions.cases")

# --- the rules, in one place --------------------------------------------------------------------------

# Urgent cases (warranty claims, safety complaints) get an answer the same day: by SAME_DAY_BY (Dubai) when
# they arrive before SAME_DAY_CUTOFF, else by NEXT_DAY_BY the next morning (no one promises an answer
# at midnight for a message sent at 22:00).
SAME_DAY_BY = time(21, 0)
SAME_DAY_CUTOFF = time(17, 0)
NEXT_DAY_BY = time(12, 0)
# Resolution targets (the seed names none): a week for a normal complaint, two days for a safety issue.
RESOLVE_NORMAL = timedelta(days=7)
RESOLVE_SAFETY = timedelta(days=2)
# Cases shown by case_status without a ticket id: every unfinished one, and finished ones this recent.
RECENTLY_FINISHED = timedelta(days=30)
MAX_LISTED = 8

COMPLAINT_CATEGORIES = (
    "service_quality",
    "delay",
    "staff",
    "billing",
    "vehicle_fault",
    "parts",
    "safety",
    "other",
)

# Words that make a complaint a safety issue whatever its category (English, Arabic, Arabizi).
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

# Words that point at a category, for a typed answer at the category step or a complaint from feedback.
_CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "safety": ("safety", "safe", "سلامة", "السلامة", "أمان", "الأمان"),
    "delay": ("delay", "late", "wait", "waiting", "slow", "took too long", "تأخير", "تأخر", "انتظار", "تأخرت", "بطء"),
    "staff": ("staff", "rude", "advisor", "employee", "behaviour", "behavior", "موظف", "الموظف", "تعامل", "وقح", "أسلوب"),
    "billing": ("bill", "billing", "invoice", "price", "charge", "charged", "overcharged", "cost", "فاتورة", "الفاتورة",
                "سعر", "السعر", "مبلغ", "حساب", "دفع"),
    "vehicle_fault": ("fault", "broken", "defect", "problem with the car", "not fixed", "عطل", "خراب", "خربان", "مشكلة في السيارة"),
    "parts": ("part", "parts", "spare", "قطع", "قطعة", "قطع الغيار"),
    "service_quality": ("service", "quality", "work", "repair", "الخدمة", "الصيانة", "جودة", "الشغل"),
    "other": ("other", "something else", "أخرى", "اخرى", "غير ذلك", "شيء آخر"),
}

_TICKET = re.compile(r"\b(WC|C)\s*-?\s*(\d{1,9})\b", re.IGNORECASE)

_AR_MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر",
              "نوفمبر", "ديسمبر")
_AR_DAYS = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")

register(
    {
        # --- shared ---
        "cases_today": {"en": "today", "ar": "اليوم"},
        "cases_tomorrow": {"en": "tomorrow", "ar": "غداً"},
        "cases_vehicle_label": {"en": "{make} {model} {year}{plate}", "ar": "{make} {model} {year}{plate}"},
        "cases_choose_vehicle": {
            "en": "Which car is it about?",
            "ar": "عن أي سيارة تتحدث؟",
        },
        "cases_choose_vehicle_again": {
            "en": "Sorry, I did not catch which car. Please pick one of these:",
            "ar": "عذراً، لم أعرف أي سيارة تقصد. اختر واحدة من هذه:",
        },
        # --- complaint ---
        "complaint_cat_service_quality": {"en": "Quality of the service or repair", "ar": "جودة الخدمة أو الإصلاح"},
        "complaint_cat_delay": {"en": "Delays or waiting time", "ar": "التأخير أو وقت الانتظار"},
        "complaint_cat_staff": {"en": "Staff behaviour", "ar": "تعامل الموظفين"},
        "complaint_cat_billing": {"en": "Price or invoice", "ar": "السعر أو الفاتورة"},
        "complaint_cat_vehicle_fault": {"en": "A fault with my car", "ar": "عطل في سيارتي"},
        "complaint_cat_parts": {"en": "Parts", "ar": "قطع الغيار"},
        "complaint_cat_safety": {"en": "A safety issue", "ar": "مشكلة تتعلق بالسلامة"},
        "complaint_cat_other": {"en": "Something else", "ar": "شيء آخر"},
        "complaint_ask_category": {
            "en": "I am sorry something went wrong. What is your complaint about?",
            "ar": "نأسف لما حدث. ما موضوع شكواك؟",
        },
        "complaint_ask_category_again": {
            "en": "Please choose the closest topic from the list (you can type its number):",
            "ar": "يرجى اختيار أقرب موضوع من القائمة (يمكنك كتابة رقمه):",
        },
        "complaint_ask_description": {
            "en": "Please describe what happened, in your own words (when, where, and what you expected).",
            "ar": "يرجى وصف ما حدث بكلماتك (متى وأين وما الذي كنت تتوقعه).",
        },
        "complaint_use_first": {"en": "As in my first message", "ar": "كما في رسالتي الأولى"},
        "complaint_ask_description_again": {
            "en": "I need a few words about what happened to pass your complaint on. Please describe it:",
            "ar": "أحتاج إلى بضع كلمات عما حدث حتى أرفع شكواك. يرجى وصفه:",
        },
        "complaint_opened": {
            "en": "Your complaint {ticket} is registered and acknowledged. A customer care manager will give you "
            "a full answer by {respond_by} at the latest (within {hours} hours), and we aim to resolve it by "
            "{resolve_by}. You can ask me for the status of {ticket} at any time.",
            "ar": "تم تسجيل شكواك {ticket} واستلامها. سيرد عليك مدير خدمة العملاء رداً وافياً في موعد أقصاه "
            "{respond_by} (خلال {hours} ساعة)، ونسعى إلى حلها بحلول {resolve_by}. يمكنك سؤالي عن حالة {ticket} "
            "في أي وقت.",
        },
        "complaint_opened_safety": {
            "en": "Your complaint {ticket} is registered as a safety issue and acknowledged. A manager will call "
            "you by {respond_by} at the latest. If the car does not feel safe, please do not drive it: our roadside "
            "assistance can help.",
            "ar": "تم تسجيل شكواك {ticket} كمشكلة تتعلق بالسلامة واستلامها. سيتصل بك أحد المدراء في موعد أقصاه "
            "{respond_by}. إذا لم تشعر بأن السيارة آمنة فلا تقدها من فضلك، ويمكن للمساعدة على الطريق مساعدتك.",
        },
        "complaint_roadside": {"en": "Roadside assistance", "ar": "المساعدة على الطريق"},
        # --- case status ---
        "case_status_claim_title": {
            "en": "{ticket} — warranty claim, {component}, {vehicle}",
            "ar": "{ticket} — مطالبة ضمان، {component}، {vehicle}",
        },
        "case_status_complaint_title": {
            "en": "{ticket} — complaint: {category}",
            "ar": "{ticket} — شكوى: {category}",
        },
        "case_status_line_status": {"en": "Status: {status}", "ar": "الحالة: {status}"},
        "case_status_line_update": {"en": "Last update: {when} — {note}", "ar": "آخر تحديث: {when} — {note}"},
        "case_status_line_received": {"en": "Last update: received {when}", "ar": "آخر تحديث: استُلمت {when}"},
        "case_status_line_changed": {"en": "Last update: {when}", "ar": "آخر تحديث: {when}"},
        "case_status_line_deadline": {"en": "Next deadline: {what} by {when}", "ar": "الموعد التالي: {what} بحلول {when}"},
        "case_status_line_no_deadline": {
            "en": "Next deadline: none — we will message you when anything changes",
            "ar": "الموعد التالي: لا يوجد — سنراسلك عند أي تغيير",
        },
        "case_status_overdue": {
            "en": "This is past its deadline, I am sorry. I have asked the team to deal with it first.",
            "ar": "نعتذر، لقد تجاوز هذا موعده. طلبت من الفريق معالجته بالأولوية.",
        },
        "case_deadline_answer": {"en": "our answer", "ar": "ردّنا"},
        "case_deadline_acknowledge": {"en": "acknowledgement", "ar": "تأكيد الاستلام"},
        "case_deadline_resolve": {"en": "resolution", "ar": "الحل"},
        "case_status_list_intro": {
            "en": "Your claims and complaints:",
            "ar": "مطالباتك وشكاواك:",
        },
        "case_status_more": {"en": "…and {count} older ones.", "ar": "…و{count} أقدم."},
        "case_status_none": {
            "en": "You have no open warranty claims or complaints with us. Can I help with something else?",
            "ar": "ليس لديك مطالبات ضمان أو شكاوى مفتوحة لدينا. هل أستطيع مساعدتك في شيء آخر؟",
        },
        "case_status_not_found": {
            "en": "I could not find a claim or complaint {ticket} under your number. Please check the "
            "reference (it looks like WC-12 or C-3), or I can list yours.",
            "ar": "لم أجد مطالبة أو شكوى بالرقم {ticket} مسجلة برقمك. يرجى التحقق من الرقم (مثل WC-12 أو C-3)، "
            "أو يمكنني عرض طلباتك.",
        },
        "case_status_list_mine": {"en": "List my claims and complaints", "ar": "اعرض مطالباتي وشكاواي"},
        "case_claim_status_open": {"en": "received, waiting for review", "ar": "مستلمة، بانتظار المراجعة"},
        "case_claim_status_in_review": {"en": "under review", "ar": "قيد المراجعة"},
        "case_claim_status_approved": {"en": "approved", "ar": "تمت الموافقة"},
        "case_claim_status_rejected": {"en": "not approved", "ar": "لم تتم الموافقة"},
        "case_claim_status_in_repair": {"en": "being repaired", "ar": "قيد الإصلاح"},
        "case_claim_status_closed": {"en": "closed", "ar": "مغلقة"},
        "case_complaint_status_open": {"en": "received", "ar": "مستلمة"},
        "case_complaint_status_acknowledged": {"en": "acknowledged, being looked into", "ar": "تم الاستلام، قيد الدراسة"},
        "case_complaint_status_in_progress": {"en": "in progress", "ar": "قيد المعالجة"},
        "case_complaint_status_resolved": {"en": "resolved", "ar": "تم الحل"},
        "case_complaint_status_closed": {"en": "closed", "ar": "مغلقة"},
        # --- feedback ---
        "feedback_rating_1": {"en": "⭐ Very poor", "ar": "⭐ سيئة جداً"},
        "feedback_rating_2": {"en": "⭐⭐ Poor", "ar": "⭐⭐ سيئة"},
        "feedback_rating_3": {"en": "⭐⭐⭐ OK", "ar": "⭐⭐⭐ مقبولة"},
        "feedback_rating_4": {"en": "⭐⭐⭐⭐ Good", "ar": "⭐⭐⭐⭐ جيدة"},
        "feedback_rating_5": {"en": "⭐⭐⭐⭐⭐ Excellent", "ar": "⭐⭐⭐⭐⭐ ممتازة"},
        "feedback_ask_rating": {
            "en": "Thank you for taking the time. How would you rate our service, from 1 (very poor) to 5 (excellent)?",
            "ar": "شكراً لوقتك. كيف تقيّم خدمتنا من 1 (سيئة جداً) إلى 5 (ممتازة)؟",
        },
        "feedback_ask_rating_again": {
            "en": "Please give a rating from 1 to 5 (for example 4, 4/5 or ⭐⭐⭐⭐):",
            "ar": "يرجى إعطاء تقييم من 1 إلى 5 (مثلاً 4 أو 4/5 أو ⭐⭐⭐⭐):",
        },
        "feedback_ask_comment": {
            "en": "Thank you! Would you like to add a comment? Write it here, or choose “No comment”.",
            "ar": "شكراً لك! هل تود إضافة تعليق؟ اكتبه هنا، أو اختر «بدون تعليق».",
        },
        "feedback_no_comment": {"en": "No comment", "ar": "بدون تعليق"},
        "feedback_thanks_high": {
            "en": "Thank you for rating us {rating}/5! We are glad you are happy, and we will pass your words "
            "on to the team.",
            "ar": "شكراً لتقييمك {rating}/5! يسعدنا رضاك، وسننقل كلماتك إلى الفريق.",
        },
        "feedback_thanks_mid": {
            "en": "Thank you for rating us {rating}/5. We will use your feedback to do better next time.",
            "ar": "شكراً لتقييمك {rating}/5. سنستفيد من ملاحظاتك لنقدم الأفضل في المرة القادمة.",
        },
        "feedback_low": {
            "en": "Thank you for your honest rating of {rating}/5, and I am sorry we let you down. I have opened "
            "complaint {ticket} so a customer care manager looks into it: you will get an answer by "
            "{respond_by} at the latest.",
            "ar": "شكراً لتقييمك الصريح {rating}/5، ونعتذر لأننا لم نكن عند حسن ظنك. فتحت الشكوى {ticket} "
            "ليتابعها مدير خدمة العملاء، وستحصل على رد في موعد أقصاه {respond_by}.",
        },
    }
)


# --- shared helpers ------------------------------------------------------------------------------------


def normalise_digits(text: str) -> str:
    return ascii_digits(text)


def fmt_date(turn: Turn, day: date) -> str:
    if turn.language == "ar":
        return f"{_AR_DAYS[day.weekday()]} {day.day} {_AR_MONTHS[day.month - 1]} {day.year}"
    return day.strftime("%a %-d %b %Y")


def fmt_when(turn: Turn, moment: datetime) -> str:
    """A moment in Dubai time: 'today 21:00', 'tomorrow 12:00' or 'Sat 28 Nov 2026 10:00'."""
    local = moment.astimezone(turn.tz)
    today = turn.local_now.date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return f"{turn.t('cases_today')} {clock}"
    if local.date() == today + timedelta(days=1):
        return f"{turn.t('cases_tomorrow')} {clock}"
    return f"{fmt_date(turn, local.date())} {clock}"


def fmt_km(value: int) -> str:
    return f"{value:,}"


def same_day_deadline(turn: Turn) -> datetime:
    """When an urgent case (warranty claim, safety issue) must be answered: the same day, or the next
    morning for one that arrives late in the evening (module docstring)."""
    local = turn.local_now
    if local.time() < SAME_DAY_CUTOFF:
        due = datetime.combine(local.date(), SAME_DAY_BY, turn.tz)
    else:
        due = datetime.combine(local.date() + timedelta(days=1), NEXT_DAY_BY, turn.tz)
    return due.astimezone(turn.now.tzinfo)


def vehicle_label(turn: Turn, vehicle: Vehicle) -> str:
    plate = f" ({vehicle.plate})" if vehicle.plate else ""
    return turn.t("cases_vehicle_label", make=vehicle.make, model=vehicle.model, year=vehicle.year, plate=plate)


def vehicle_options(turn: Turn, vehicles: list[Vehicle]) -> list[Option]:
    return [Option(f"vehicle:{v.id}", vehicle_label(turn, v)) for v in vehicles]


def vehicle_named(turn: Turn, vehicles: list[Vehicle]) -> Vehicle | None:
    """The one vehicle of the customer's that the message names (plate, VIN, make or model), if exactly one;
    or the one a picked option carried (turn.hints["vehicle"])."""
    hinted = turn.hints.get("vehicle")
    if hinted is not None:
        for vehicle in vehicles:
            if str(vehicle.id) == hinted:
                return vehicle
    said = normalise_digits(turn.message.text).lower()
    if not said:
        return None
    compact = re.sub(r"[^a-z0-9]", "", said)
    hits = []
    for vehicle in vehicles:
        plate_digits = re.sub(r"\D", "", vehicle.plate or "")
        if vehicle.vin.lower() in compact or (len(plate_digits) >= 3 and re.search(rf"(?<!\d){plate_digits}(?!\d)", said)):
            return vehicle
        if _says(said, vehicle.model) or _says(said, vehicle.make):
            hits.append(vehicle)
    if len(hits) == 1:
        return hits[0]
    models = [v for v in hits if _says(said, v.model)]
    return models[0] if len(models) == 1 else None


def _says(said: str, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", said) is not None


def vehicle_chosen(turn: Turn) -> Vehicle | None:
    """The vehicle picked at a vehicle step: an offered option or a vehicle named in the text."""
    vehicles = turn.vehicles()
    if turn.selected is not None and turn.selected.id.startswith("vehicle:"):
        wanted = turn.selected.id.removeprefix("vehicle:")
        return next((v for v in vehicles if str(v.id) == wanted), None)
    return vehicle_named(turn, vehicles)


def is_safety(text: str) -> bool:
    return bool(_SAFETY.search(text or ""))


def category_in(text: str) -> str | None:
    said = f" {normalise_digits(text).lower()} "
    for category, words in _CATEGORY_WORDS.items():
        if any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", said) for word in words):
            return category
    return None


def dispatch_elsewhere(turn: Turn) -> Reply | list[Reply]:
    """End the current flow and answer the message as if no flow were active (its NLU intent)."""
    from actions.registry import INTENTS

    turn.finish()
    picked = split_intent_option(turn.selected.id) if turn.selected is not None else None
    if picked is not None:
        name, turn.hints = picked
        turn.selected = None
    else:
        name = turn.parse.intent
    handler = INTENTS.get(name) or INTENTS["nlu_fallback"]
    return handler(turn)


def open_complaint(
    turn: Turn,
    category: str,
    description: str,
    source: str = "chat",
    vehicle_id: int | None = None,
) -> Complaint:
    """Register a complaint with its SLA deadlines, acknowledged now, and alert staff."""
    assert turn.customer is not None
    now = turn.now
    safety = category == "safety" or is_safety(description)
    if safety:
        respond_by = same_day_deadline(turn)
        resolve_by = now + RESOLVE_SAFETY
    else:
        respond_by = now + timedelta(hours=turn.settings.complaint_response_hours)
        resolve_by = max(now + RESOLVE_NORMAL, respond_by)
    if vehicle_id is None:
        vehicles = turn.vehicles()
        vehicle_id = vehicles[0].id if len(vehicles) == 1 else None
    complaint = Complaint(
        customer_id=turn.customer.id,
        vehicle_id=vehicle_id,
        category=category,
        severity="safety" if safety else "normal",
        description=description,
        source=source,
        status="acknowledged",
        acknowledge_by=now,
        acknowledged_at=now,
        respond_by=respond_by,
        resolve_by=resolve_by,
        escalation_level=0,
        created_at=now,
        updated_at=now,
    )
    turn.session.add(complaint)
    turn.session.flush()
    turn.alert_staff(
        "complaint",
        f"alert:complaint:{complaint.id}",
        {
            "ticket": complaint.ticket_id,
            "customer_id": turn.customer.id,
            "category": category,
            "severity": complaint.severity,
            "source": source,
            "respond_by": respond_by.isoformat(),
            "urgent": safety,
        },
        recipient="customer-care",
    )
    log.info("complaint_opened", ticket=complaint.ticket_id, severity=complaint.severity, source=source)
    return complaint


# --- complaint -----------------------------------------------------------------------------------------


def _category_options(turn: Turn) -> list[Option]:
    return [turn.option(f"category:{c}", f"complaint_cat_{c}") for c in COMPLAINT_CATEGORIES]


def _content_words(text: str) -> int:
    return len(re.findall(r"\w+", text or ""))


@intent("complaint")
def complaint(turn: Turn) -> Reply:
    if turn.customer is None:
        return general.need_customer(turn)
    said = (turn.message.text or "").strip()
    turn.data = {"first": said[:2000] if _content_words(said) >= 8 else None}
    return turn.ask("complaint", "category", "complaint_ask_category", _category_options(turn))


@step("complaint", "category", keeps=("feedback", "warranty_claim", "roadside_assistance"))
def complaint_category(turn: Turn) -> Reply | list[Reply]:
    if turn.selected is not None and turn.selected.id.startswith("category:"):
        category = turn.selected.id.removeprefix("category:")
    else:
        category = category_in(turn.message.text)
    if category not in COMPLAINT_CATEGORIES:
        if turn.parse.intent == "roadside_assistance" and turn.parse.confidence >= SWITCH_CONFIDENCE:
            return dispatch_elsewhere(turn)
        return turn.ask("complaint", "category", "complaint_ask_category_again", _category_options(turn))
    turn.remember(category=category)
    options = [turn.option("first", "complaint_use_first")] if turn.data.get("first") else []
    return turn.ask("complaint", "description", "complaint_ask_description", options, free_text=True)


# A description of smoke or failing brakes reads like a roadside call to the NLU; here it is the complaint's
# text (a safety one: same-day answer, and roadside help offered with the ticket).
@step("complaint", "description", keeps=("roadside_assistance",))
def complaint_description(turn: Turn) -> Reply | list[Reply]:
    data = turn.data
    if turn.selected is not None and turn.selected.id == "first" and data.get("first"):
        description = data["first"]
    else:
        description = (turn.message.text or "").strip()
    if _content_words(description) < 2:
        options = [turn.option("first", "complaint_use_first")] if data.get("first") else []
        return turn.ask("complaint", "description", "complaint_ask_description_again", options, free_text=True)
    if turn.message.media:
        description += "\n" + "\n".join(m.url for m in turn.message.media)
    ticket = open_complaint(turn, data["category"], description[:5000])
    turn.finish()
    return complaint_timeline(turn, ticket)


def complaint_timeline(turn: Turn, ticket: Complaint) -> Reply:
    if ticket.severity == "safety":
        options = [turn.option("intent:roadside_assistance", "complaint_roadside")]
        turn.offer(options)
        return turn.reply("complaint_opened_safety", options, ticket=ticket.ticket_id,
                          respond_by=fmt_when(turn, ticket.respond_by))
    return turn.reply(
        "complaint_opened",
        ticket=ticket.ticket_id,
        respond_by=fmt_when(turn, ticket.respond_by),
        resolve_by=fmt_date(turn, ticket.resolve_by.astimezone(turn.tz).date()),
        hours=turn.settings.complaint_response_hours,
    )


# --- case status ---------------------------------------------------------------------------------------


def _ticket_asked(turn: Turn) -> tuple[str, int] | None:
    entity = turn.parse.entity("ticket_id")
    for raw in ([entity.value, entity.text] if entity else []) + [turn.message.text or ""]:
        match = _TICKET.search(normalise_digits(raw))
        if match:
            return match.group(1).upper(), int(match.group(2))
    return None


def _last_note(turn: Turn, column, case_id: int) -> CaseNote | None:
    return turn.session.scalar(
        select(CaseNote)
        .where(column == case_id, CaseNote.visible_to_customer.is_(True))
        .order_by(CaseNote.created_at.desc(), CaseNote.id.desc())
        .limit(1)
    )


def _update_line(turn: Turn, note: CaseNote | None, created: datetime, updated: datetime) -> str:
    if note is not None:
        return turn.t("case_status_line_update", when=fmt_when(turn, note.created_at), note=note.body)
    if updated <= created:
        return turn.t("case_status_line_received", when=fmt_when(turn, created))
    return turn.t("case_status_line_changed", when=fmt_when(turn, updated))


def _deadline_lines(turn: Turn, ticket: str, what: str | None, due: datetime | None) -> list[str]:
    if what is None or due is None:
        return [turn.t("case_status_line_no_deadline")]
    lines = [turn.t("case_status_line_deadline", what=turn.t(f"case_deadline_{what}"), when=fmt_when(turn, due))]
    if due < turn.now:
        lines.append(turn.t("case_status_overdue"))
        turn.alert_staff(
            "case_overdue",
            f"alert:case_overdue:{ticket}:{turn.local_now.date().isoformat()}",
            {"ticket": ticket, "deadline": what, "due": due.isoformat()},
            recipient="customer-care",
        )
    return lines


def _claim_block(turn: Turn, claim: WarrantyClaim) -> str:
    from actions.warranty import component_label

    vehicle = turn.session.get(Vehicle, claim.vehicle_id)
    lines = [
        turn.t("case_status_claim_title", ticket=claim.ticket_id, component=component_label(turn, claim.component),
               vehicle=vehicle_label(turn, vehicle) if vehicle else "-"),
        turn.t("case_status_line_status", status=turn.t(f"case_claim_status_{claim.status}")),
        _update_line(turn, _last_note(turn, CaseNote.warranty_claim_id, claim.id), claim.created_at, claim.updated_at),
    ]
    waiting = claim.status in ("open", "in_review") and claim.responded_at is None
    lines += _deadline_lines(turn, claim.ticket_id, "answer" if waiting else None, claim.respond_by)
    return "\n".join(lines)


def _complaint_next(complaint: Complaint) -> tuple[str | None, datetime | None]:
    if complaint.status in ("resolved", "closed"):
        return None, None
    if complaint.acknowledged_at is None:
        return "acknowledge", complaint.acknowledge_by
    if complaint.responded_at is None:
        return "answer", complaint.respond_by
    if complaint.resolved_at is None:
        return "resolve", complaint.resolve_by
    return None, None


def _complaint_block(turn: Turn, complaint: Complaint) -> str:
    category = complaint.category if complaint.category in COMPLAINT_CATEGORIES else "other"
    what, due = _complaint_next(complaint)
    lines = [
        turn.t("case_status_complaint_title", ticket=complaint.ticket_id, category=turn.t(f"complaint_cat_{category}")),
        turn.t("case_status_line_status", status=turn.t(f"case_complaint_status_{complaint.status}")),
        _update_line(turn, _last_note(turn, CaseNote.complaint_id, complaint.id), complaint.created_at,
                     complaint.updated_at),
    ]
    lines += _deadline_lines(turn, complaint.ticket_id, what, due)
    return "\n".join(lines)


@intent("case_status")
def case_status(turn: Turn) -> Reply:
    if turn.customer is None:
        return general.need_customer(turn)
    asked = _ticket_asked(turn)
    if asked is not None:
        kind, number = asked
        model = WarrantyClaim if kind == "WC" else Complaint
        case = turn.session.scalar(
            select(model).where(model.id == number, model.customer_id == turn.customer.id)
        )
        if case is None:
            log.info("case_not_found", kind=kind)
            options = [turn.option("intent:case_status", "case_status_list_mine")]
            turn.offer(options)
            return turn.reply("case_status_not_found", options, ticket=f"{kind}-{number}")
        block = _claim_block(turn, case) if kind == "WC" else _complaint_block(turn, case)
        return Reply(block)
    return _list_cases(turn)


def _list_cases(turn: Turn) -> Reply:
    assert turn.customer is not None
    since = turn.now - RECENTLY_FINISHED
    claims = list(
        turn.session.scalars(
            select(WarrantyClaim).where(
                WarrantyClaim.customer_id == turn.customer.id,
                or_(WarrantyClaim.status.not_in(("closed", "rejected")), WarrantyClaim.updated_at >= since),
            )
        )
    )
    complaints = list(
        turn.session.scalars(
            select(Complaint).where(
                Complaint.customer_id == turn.customer.id,
                or_(Complaint.status.not_in(("resolved", "closed")), Complaint.updated_at >= since),
            )
        )
    )
    cases: list[tuple[datetime, str]] = [(c.created_at, _claim_block(turn, c)) for c in claims]
    cases += [(c.created_at, _complaint_block(turn, c)) for c in complaints]
    if not cases:
        return general.with_menu(turn, "case_status_none")
    cases.sort(key=lambda item: item[0], reverse=True)
    parts = [turn.t("case_status_list_intro")] + [block for _, block in cases[:MAX_LISTED]]
    if len(cases) > MAX_LISTED:
        parts.append(turn.t("case_status_more", count=len(cases) - MAX_LISTED))
    return Reply("\n\n".join(parts))


# --- feedback ------------------------------------------------------------------------------------------

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


def parse_rating(text: str, lenient: bool = False) -> int | None:
    """A 1-5 rating in a message: '4/5', '4 out of 5', '⭐⭐⭐⭐', 'four stars', '٤ نجوم', 'rate it 4'.
    Lenient (when the rating was just asked for): a message that is only a number 1-5 or its word."""
    said = normalise_digits(text).strip()
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


def _comment_in(text: str) -> str | None:
    """The message as a comment when it says something beyond the rating itself."""
    words = [w for w in re.findall(r"[^\W\d_]+(?:'[a-z]+)?", normalise_digits(text).lower()) if w not in _FILLER]
    words = [w for w in words if w not in _NUMBER_WORDS]
    return text.strip()[:5000] if len(words) >= 2 else None


def _rating_options(turn: Turn) -> list[Option]:
    return [turn.option(f"rating:{n}", f"feedback_rating_{n}") for n in range(1, 6)]


@intent("feedback")
def feedback(turn: Turn) -> Reply:
    if turn.customer is None:
        return general.need_customer(turn)
    said = turn.message.text or ""
    rating = parse_rating(said)
    comment = _comment_in(said)
    turn.data = {"rating": rating, "comment": comment}
    if rating is None:
        return turn.ask("feedback", "rating", "feedback_ask_rating", _rating_options(turn))
    if comment is None:
        return _ask_comment(turn)
    return _save_feedback(turn, rating, comment)


def _ask_comment(turn: Turn) -> Reply:
    return turn.ask("feedback", "comment", "feedback_ask_comment", [turn.option("skip", "feedback_no_comment")],
                    free_text=True)


@step("feedback", "rating", keeps=("complaint", "affirm", "deny", "thanks", "out_of_scope"))
def feedback_rating(turn: Turn) -> Reply:
    if turn.selected is not None and turn.selected.id.startswith("rating:"):
        rating = int(turn.selected.id.removeprefix("rating:"))
    else:
        rating = parse_rating(turn.message.text or "", lenient=True)
    if rating is None:
        return turn.ask("feedback", "rating", "feedback_ask_rating_again", _rating_options(turn))
    turn.remember(rating=rating)
    comment = turn.data.get("comment") or (None if turn.selected else _comment_in(turn.message.text or ""))
    if comment is None:
        return _ask_comment(turn)
    return _save_feedback(turn, rating, comment)


@step("feedback", "comment")
def feedback_comment(turn: Turn) -> Reply:
    said = (turn.message.text or "").strip()
    plain = " ".join(re.sub(r"[^\w\s']", " ", said.lower()).split())
    if (turn.selected is not None and turn.selected.id == "skip") or not plain or plain in _NO_COMMENT:
        comment = None
    else:
        comment = said[:5000]
    return _save_feedback(turn, int(turn.data["rating"]), comment)


def _save_feedback(turn: Turn, rating: int, comment: str | None) -> Reply:
    assert turn.customer is not None
    turn.finish()
    recent = turn.session.scalar(
        select(Appointment.id)
        .where(
            Appointment.customer_id == turn.customer.id,
            Appointment.status == "completed",
            Appointment.starts_at <= turn.now,
            Appointment.starts_at >= turn.now - timedelta(days=30),
        )
        .order_by(Appointment.starts_at.desc())
        .limit(1)
    )
    row = Feedback(customer_id=turn.customer.id, appointment_id=recent, rating=rating, comment=comment,
                   created_at=turn.now)
    turn.session.add(row)
    log.info("feedback_saved", rating=rating, with_comment=comment is not None)
    if rating <= 2:
        description = comment or f"Rated the service {rating}/5 without a comment."
        category = category_in(comment or "") or "service_quality"
        if category == "other":
            category = "service_quality"
        ticket = open_complaint(turn, category, description, source="feedback")
        row.complaint_id = ticket.id
        if ticket.severity == "safety":
            return complaint_timeline(turn, ticket)
        return turn.reply("feedback_low", rating=rating, ticket=ticket.ticket_id,
                          respond_by=fmt_when(turn, ticket.respond_by))
    return turn.reply("feedback_thanks_high" if rating >= 4 else "feedback_thanks_mid", rating=rating)
