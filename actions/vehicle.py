"""The customer's car itself: when the next service is due (`maintenance_due`), what was done to it
(`service_history`), open manufacturer recalls (`recall_check`) and odometer readings (`report_mileage`).

Which car: the one the message names (plate, VIN, make or model — Arabic model names too); a customer
with one car is not asked; otherwise the bot asks with the cars as options (recall_check also offers
"all my cars"). A VIN or plate that is not one of the customer's own cars is answered like an unknown
one, never with that car's data.

maintenance_due: the interval rule is the most specific MaintenancePlan row for the car — exact make and
model, then make with model "*", then "*" with the model, then ("*", "*"), the default; without any row
DEFAULT_INTERVAL. The next service is counted from the last scheduled service (a service record whose
work is a periodic service or an oil change — a tyre or battery job does not reset the schedule), else
from the purchase: due on base date + months, or at base km + interval km, whichever comes first. The
latest mileage is the newest odometer value known (readings and service records). When the customer's
usual driving reaches the km before the date, the estimated date is told too. Offers to book.

service_history: three sections — service records (newest first; a `service_type` in the message
filters them, e.g. "when was my last oil change"), the pre-delivery inspection report (summary, what was
fixed before handover, items to watch) and the vehicle-history documents (links, also as attachments).
The message's words pick the section; each is paged PAGE_SIZE entries at a time with a "more" option
that continues where the last page stopped.

recall_check: active recalls that apply to the car — by the VIN list when the recall has one, else by
make, model (None = every model) and year range — minus those with a completion row; each with its
description and remedy, completed ones mentioned with their date; offers to book when one is open.

report_mileage: the reading comes from the NLU's `mileage` entity, else from the text ("85,000 km",
"٤٥ ألف", "120k", "39.5k", "104 thousand"). It must not be lower than any reading we have. A reading
that is absurd for the time since the last one (more than MAX_KM_PER_DAY a day plus TRIP_ALLOWANCE_KM)
or for the car's age (more than MAX_KM_PER_YEAR on average since its model year began) is stored only
after the customer confirms it. After storing, the next due service is recomputed and told.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions import general
from actions.cases import dispatch_elsewhere, fmt_date, fmt_km, vehicle_label, vehicle_named
from actions.registry import SWITCH_CONFIDENCE, TASK_INTENTS, intent, step
from actions.turn import Turn
from bot.messages import register
from bot.types import Attachment, Option, Reply
from db.models import (
    InspectionReport,
    MaintenancePlan,
    MileageReading,
    Recall,
    RecallCompletion,
    ServiceRecord,
    ServiceType,
    Vehicle,
    VehicleDocument,
)
from dealerbot.logging import get_logger
from bot.text import ascii_digits

log = get_logger("actions.vehicle")

# --- the rules, in one place ------------------------------------------------------------------------------

# When no maintenance plan row matches at all (not even the ("*", "*") default): every 10,000 km or 6
# months, as the demo's default plan and the seed's "regular service" say.
DEFAULT_INTERVAL = (10_000, 6)  # km, months
# "Due soon": within this many days or km the answer says so.
SOON_DAYS = 30
SOON_KM = 1_000
# A customer's driving rate is estimated from readings at least this far apart.
MIN_RATE_SPAN_DAYS = 30
# Sanity checks of a reported reading. A car can do a long trip right after its last reading (Dubai–
# Salalah and back is ~3,000 km), and heavy users drive ~100,000 km a year; beyond both, ask first.
MAX_KM_PER_DAY = 600
TRIP_ALLOWANCE_KM = 3_000
MAX_KM_PER_YEAR = 100_000
MIN_READING_KM = 100  # a used car with less is a typo (or an option number, "2")
MAX_READING_KM = 2_000_000
# A message the NLU is this sure of is a new request, not an answer to the step (as bot/core.py decides).
# Long lists are shown this many entries at a time.
PAGE_SIZE = 5

SECTIONS = ("records", "inspection", "documents")


# Arabic names of the makes and models customers write in Arabic script (Latin names are matched by
# actions.cases.vehicle_named).
_ARABIC_NAMES: dict[str, tuple[str, ...]] = {
    "Land Cruiser": ("لاندكروزر", "لاند كروزر", "لاندكروز", "لاندكلوزر", "اللاندكروزر", "اللاند كروزر"),
    "Prado": ("برادو", "البرادو"),
    "Camry": ("كامري", "الكامري"),
    "Corolla": ("كورولا", "الكورولا"),
    "Hilux": ("هايلكس", "الهايلكس", "هايلوكس"),
    "Fortuner": ("فورتشنر", "الفورتشنر"),
    "Patrol": ("باترول", "الباترول"),
    "Altima": ("ألتيما", "التيما", "الألتيما", "الالتيما"),
    "Sunny": ("صني", "الصني"),
    "X-Trail": ("اكس تريل", "إكس تريل", "الاكس تريل"),
    "Pajero": ("باجيرو", "الباجيرو"),
    "Lancer": ("لانسر", "اللانسر"),
    "Tucson": ("توسان", "التوسان"),
    "Elantra": ("النترا", "إلنترا", "الالنترا"),
    "Sonata": ("سوناتا", "السوناتا"),
    "Sportage": ("سبورتاج", "السبورتاج"),
    "Sorento": ("سورينتو", "السورينتو"),
    "Accord": ("أكورد", "اكورد", "الأكورد", "الاكورد"),
    "Civic": ("سيفيك", "السيفيك"),
    "Explorer": ("اكسبلورر", "إكسبلورر", "الاكسبلورر"),
    "Edge": ("ايدج", "إيدج"),
    "Tahoe": ("تاهو", "التاهو"),
    "Silverado": ("سلفرادو", "السلفرادو"),
    "Yukon": ("يوكن", "اليوكن", "يوكون"),
    "Range Rover": ("رنج روفر", "رينج روفر", "الرنج"),
    "Defender": ("ديفندر", "الديفندر"),
    "Toyota": ("تويوتا", "التويوتا"),
    "Nissan": ("نيسان", "النيسان"),
    "Lexus": ("لكزس", "اللكزس", "لكزز"),
    "Mitsubishi": ("ميتسوبيشي", "متسوبيشي"),
    "Hyundai": ("هيونداي", "هونداي"),
    "Kia": ("كيا",),
    "Honda": ("هوندا",),
    "Ford": ("فورد",),
    "Chevrolet": ("شفروليه", "شيفروليه", "شفر"),
    "GMC": ("جمس", "جي ام سي"),
    "Mercedes-Benz": ("مرسيدس", "المرسيدس"),
    "BMW": ("بي ام", "بي إم", "بي ام دبليو"),
    "Land Rover": ("لاند روفر", "لاندروفر"),
}

_VIN = re.compile(r"\b[A-HJ-NPR-Z0-9]{17}\b")

register(
    {
        # --- choosing the car ---
        "veh_ask_vehicle_due": {
            "en": "Which car would you like the next service for?",
            "ar": "لأي سيارة تريد معرفة موعد الصيانة القادمة؟",
        },
        "veh_ask_vehicle_history": {
            "en": "Which car's history would you like to see?",
            "ar": "سجل أي سيارة تريد أن تطلع عليه؟",
        },
        "veh_ask_vehicle_recall": {
            "en": "Which car should I check for recalls?",
            "ar": "أي سيارة تريد أن أتحقق من وجود استدعاءات عليها؟",
        },
        "veh_ask_vehicle_mileage": {
            "en": "Which car is this reading for?",
            "ar": "لأي سيارة هذه القراءة؟",
        },
        "veh_choose_again": {
            "en": "Sorry, I did not catch which car. Please pick one of these:",
            "ar": "عذراً، لم أعرف أي سيارة تقصد. اختر واحدة من هذه:",
        },
        "veh_not_yours": {
            "en": "I could not find {ref} among your cars. Which of your cars do you mean?",
            "ar": "لم أجد {ref} بين سياراتك. أي سيارة من سياراتك تقصد؟",
        },
        "veh_all_cars": {"en": "All my cars", "ar": "كل سياراتي"},
        "veh_book": {"en": "Book a service", "ar": "حجز موعد صيانة"},
        "veh_book_recall": {"en": "Book the recall work", "ar": "حجز موعد لإصلاح الاستدعاء"},
        "veh_report_mileage": {"en": "Report my mileage", "ar": "تحديث قراءة العداد"},
        # --- maintenance_due ---
        "veh_due_next": {
            "en": "{vehicle}: the next service is due on {due_date} or at {due_km} km, whichever comes first "
            "(your plan: every {months} months or {interval} km).",
            "ar": "{vehicle}: موعد الصيانة القادمة في {due_date} أو عند {due_km} كم، أيهما أسبق "
            "(خطتك: كل {months} أشهر أو {interval} كم).",
        },
        "veh_due_next_date": {
            "en": "{vehicle}: the next service is due on {due_date} (your plan: every {months} months or "
            "{interval} km, whichever comes first).",
            "ar": "{vehicle}: موعد الصيانة القادمة في {due_date} (خطتك: كل {months} أشهر أو {interval} كم، "
            "أيهما أسبق).",
        },
        "veh_due_left": {
            "en": "That is in {days} days or {km_left} km.",
            "ar": "أي بعد {days} يوماً أو {km_left} كم.",
        },
        "veh_due_left_days": {
            "en": "That is in {days} days.",
            "ar": "أي بعد {days} يوماً.",
        },
        "veh_due_today": {
            "en": "That is today.",
            "ar": "أي اليوم.",
        },
        "veh_due_overdue_date": {
            "en": "It is overdue: the date passed {days} days ago.",
            "ar": "الصيانة متأخرة: فات موعدها منذ {days} يوماً.",
        },
        "veh_due_overdue_km": {
            "en": "It is overdue: the last reading, {km} km, is {over} km past it.",
            "ar": "الصيانة متأخرة: آخر قراءة {km} كم، أي تجاوزت الموعد بـ {over} كم.",
        },
        "veh_due_at_km_left": {
            "en": "At {km} km, as you said, {left} km are left before it.",
            "ar": "عند {km} كم كما ذكرت، يتبقى {left} كم قبل موعدها.",
        },
        "veh_due_at_km_over": {
            "en": "At {km} km, as you said, it is {left} km past due.",
            "ar": "عند {km} كم كما ذكرت، تكون الصيانة متأخرة بـ {left} كم.",
        },
        "veh_due_estimate": {
            "en": "At your usual {per_month} km a month you will reach {due_km} km around {when}, before the date.",
            "ar": "بمعدل قيادتك المعتاد ({per_month} كم شهرياً) ستصل إلى {due_km} كم في حدود {when}، قبل الموعد.",
        },
        "veh_due_estimate_passed": {
            "en": "At your usual {per_month} km a month you have probably passed {due_km} km already — please "
            "send me the odometer reading.",
            "ar": "بمعدل قيادتك المعتاد ({per_month} كم شهرياً) ربما تجاوزت {due_km} كم بالفعل — أرسل لي قراءة "
            "العداد من فضلك.",
        },
        "veh_due_soon": {
            "en": "It is coming up soon — shall I book it for you?",
            "ar": "الموعد قريب — هل تريد أن أحجزه لك؟",
        },
        "veh_due_book_now": {
            "en": "Please book it soon — I can do that for you now.",
            "ar": "يُرجى الحجز قريباً — يمكنني حجزه لك الآن.",
        },
        "veh_last_service": {
            "en": "Last service: {date} at {km} km — {work}",
            "ar": "آخر صيانة: {date} عند {km} كم — {work}",
        },
        "veh_last_service_no_km": {
            "en": "Last service: {date} — {work}",
            "ar": "آخر صيانة: {date} — {work}",
        },
        "veh_no_service_since_purchase": {
            "en": "No service with us yet, so I counted from the purchase on {date}.",
            "ar": "لا توجد صيانة لدينا حتى الآن، لذلك حسبت الموعد من تاريخ الشراء {date}.",
        },
        "veh_latest_mileage": {
            "en": "Latest mileage: {km} km on {date}.",
            "ar": "آخر قراءة للعداد: {km} كم بتاريخ {date}.",
        },
        "veh_latest_mileage_old": {
            "en": "Latest mileage: {km} km on {date}. Send me today's odometer reading and I will make this precise.",
            "ar": "آخر قراءة للعداد: {km} كم بتاريخ {date}. أرسل لي قراءة العداد اليوم لأحسب الموعد بدقة.",
        },
        "veh_no_mileage": {
            "en": "I have no odometer reading for this car yet — send me one and I will tell you the km too.",
            "ar": "لا توجد لدي قراءة للعداد لهذه السيارة بعد — أرسلها لي وسأخبرك بالكيلومترات أيضاً.",
        },
        # --- service_history ---
        "veh_records_head": {
            "en": "Service history of your {vehicle} ({total} entries with us):",
            "ar": "سجل صيانة سيارتك {vehicle} ({total} بنداً لدينا):",
        },
        "veh_records_filtered_head": {
            "en": "{service} on your {vehicle} ({total} on record):",
            "ar": "{service} لسيارتك {vehicle} ({total} في السجل):",
        },
        "veh_records_filter_none": {
            "en": "I found no {service} on record for your {vehicle}; here is its whole service history.",
            "ar": "لم أجد {service} في سجل سيارتك {vehicle}؛ هذا سجل الصيانة الكامل.",
        },
        "veh_records_none": {
            "en": "There is no service record with us for your {vehicle} yet.",
            "ar": "لا يوجد سجل صيانة لدينا لسيارتك {vehicle} حتى الآن.",
        },
        "veh_record_line": {
            "en": "• {date} — {km} km — {work}{cost}",
            "ar": "• {date} — {km} كم — {work}{cost}",
        },
        "veh_record_line_no_km": {
            "en": "• {date} — {work}{cost}",
            "ar": "• {date} — {work}{cost}",
        },
        "veh_record_cost": {"en": " ({amount} AED)", "ar": " ({amount} درهم)"},
        "veh_record_parts": {"en": "   Parts: {parts}", "ar": "   القطع: {parts}"},
        "veh_inspection_head": {
            "en": "Pre-delivery inspection of your {vehicle}: {date} at {km} km, by {inspector}.\n{summary}",
            "ar": "فحص ما قبل التسليم لسيارتك {vehicle}: {date} عند {km} كم، أجراه {inspector}.\n{summary}",
        },
        "veh_inspection_none": {
            "en": "I could not find a pre-delivery inspection report for your {vehicle}.",
            "ar": "لم أجد تقرير فحص ما قبل التسليم لسيارتك {vehicle}.",
        },
        "veh_inspection_fixed": {
            "en": "• Fixed before handover — {item}: {finding}",
            "ar": "• أُصلح قبل التسليم — {item}: {finding}",
        },
        "veh_inspection_watch": {
            "en": "• To keep an eye on — {item}: {finding}",
            "ar": "• يحتاج إلى متابعة — {item}: {finding}",
        },
        "veh_inspection_ok": {
            "en": "Everything else checked was in order: {items}.",
            "ar": "بقية البنود المفحوصة سليمة: {items}.",
        },
        "veh_documents_head": {
            "en": "Documents of your {vehicle}:",
            "ar": "مستندات سيارتك {vehicle}:",
        },
        "veh_documents_none": {
            "en": "I could not find any documents for your {vehicle}. A colleague can send them to you.",
            "ar": "لم أجد أي مستندات لسيارتك {vehicle}. يمكن لأحد زملائنا إرسالها لك.",
        },
        "veh_document_line": {
            "en": "• {title} ({date}): {url}",
            "ar": "• {title} ({date}): {url}",
        },
        "veh_page": {
            "en": "Showing {first}–{last} of {total}.",
            "ar": "عرض {first}–{last} من {total}.",
        },
        "veh_more": {"en": "More", "ar": "المزيد"},
        "veh_section_records": {"en": "Service records", "ar": "سجل الصيانة"},
        "veh_section_inspection": {"en": "Inspection report", "ar": "تقرير الفحص"},
        "veh_section_documents": {"en": "Documents", "ar": "المستندات"},
        "veh_browse_again": {
            "en": "Please choose one of these, or ask me something else:",
            "ar": "اختر أحد هذه الخيارات، أو اسألني عن شيء آخر:",
        },
        "veh_no_more": {
            "en": "That was everything. Anything else?",
            "ar": "هذا كل شيء. هل تحتاج شيئاً آخر؟",
        },
        # --- recall_check ---
        "veh_recall_open": {
            "en": "⚠️ {vehicle}: open recall {code} — {title}.\n{description}\nRemedy: {remedy}",
            "ar": "⚠️ {vehicle}: استدعاء مفتوح {code} — {title}.\n{description}\nالإصلاح: {remedy}",
        },
        "veh_recall_none": {
            "en": "✅ {vehicle}: no open recalls.",
            "ar": "✅ {vehicle}: لا توجد استدعاءات مفتوحة.",
        },
        "veh_recall_done": {
            "en": "✅ {vehicle}: recall {code} ({title}) was completed on {date}.",
            "ar": "✅ {vehicle}: تم تنفيذ الاستدعاء {code} ({title}) بتاريخ {date}.",
        },
        "veh_recall_offer": {
            "en": "Recall work is free of charge. Shall I book it for you?",
            "ar": "إصلاحات الاستدعاء مجانية. هل تريد أن أحجز لك موعداً؟",
        },
        # --- report_mileage ---
        "veh_ask_km": {
            "en": "What does the odometer of your {vehicle} show now (in km)?",
            "ar": "كم تُظهر قراءة عداد سيارتك {vehicle} الآن (بالكيلومتر)؟",
        },
        "veh_km_again": {
            "en": "Sorry, I need the odometer reading as a number of kilometres, e.g. 85,000 km or 85k.",
            "ar": "عذراً، أحتاج قراءة العداد كرقم بالكيلومترات، مثلاً 85,000 كم أو 85 ألف.",
        },
        "veh_km_backwards": {
            "en": "{km} km is lower than the {last} km we recorded on {date} for your {vehicle}, and an odometer "
            "does not go back. Could you check it and send me the reading again?",
            "ar": "{km} كم أقل من قراءة {last} كم المسجلة بتاريخ {date} لسيارتك {vehicle}، والعداد لا يعود إلى الوراء. "
            "هل يمكنك التحقق منه وإرسال القراءة مرة أخرى؟",
        },
        "veh_km_jump": {
            "en": "Just to be sure: {km} km would mean {delta} km driven since the {last} km recorded on {date} "
            "({days} days ago), which is far more than usual. Is {km} km right?",
            "ar": "للتأكد فقط: {km} كم تعني أنك قطعت {delta} كم منذ قراءة {last} كم المسجلة بتاريخ {date} "
            "(قبل {days} يوماً)، وهذا أكثر بكثير من المعتاد. هل {km} كم صحيحة؟",
        },
        "veh_km_age": {
            "en": "Just to be sure: {km} km would be about {per_year} km a year for a {year} car, which is far "
            "more than usual. Is {km} km right?",
            "ar": "للتأكد فقط: {km} كم تعني نحو {per_year} كم سنوياً لسيارة موديل {year}، وهذا أكثر بكثير من "
            "المعتاد. هل {km} كم صحيحة؟",
        },
        "veh_km_yes": {"en": "Yes, it's right", "ar": "نعم، صحيحة"},
        "veh_km_no": {"en": "No, let me correct it", "ar": "لا، سأصححها"},
        "veh_km_confirm_again": {
            "en": "Is {km} km right? Please answer yes or no, or send the correct reading.",
            "ar": "هل {km} كم صحيحة؟ أجب بنعم أو لا، أو أرسل القراءة الصحيحة.",
        },
        "veh_km_ask_correct": {
            "en": "OK — what does the odometer show?",
            "ar": "حسناً — كم تُظهر قراءة العداد؟",
        },
        "veh_km_saved": {
            "en": "Thank you — I recorded {km} km for your {vehicle}.",
            "ar": "شكراً لك — سجلت {km} كم لسيارتك {vehicle}.",
        },
        "veh_km_same": {
            "en": "Thank you — {km} km is the reading we already have for your {vehicle}.",
            "ar": "شكراً لك — {km} كم هي القراءة المسجلة لدينا لسيارتك {vehicle}.",
        },
    }
)


# --- which car ------------------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    return ascii_digits(text)


def _arabic_named(said: str, vehicles: list[Vehicle]) -> Vehicle | None:
    def says(name: str) -> bool:
        return any(re.search(rf"(?<!\w){re.escape(alias)}(?!\w)", said) for alias in _ARABIC_NAMES.get(name, ()))

    hits = [v for v in vehicles if says(v.model) or says(v.make)]
    if len(hits) == 1:
        return hits[0]
    models = [v for v in hits if says(v.model)]
    return models[0] if len(models) == 1 else None


def named_vehicle(turn: Turn, vehicles: list[Vehicle]) -> Vehicle | None:
    """The one car of the customer's that the message names: plate, VIN, make or model (Latin or Arabic)."""
    if not vehicles:
        return None
    if "vehicle" in turn.hints:
        return vehicle_named(turn, vehicles)
    if not (turn.message.text or "").strip():
        return None
    return vehicle_named(turn, vehicles) or _arabic_named(normalise(turn.message.text), vehicles)


def _other_reference(turn: Turn) -> str | None:
    """A VIN or plate in the message (none of the customer's cars matched it): what they wrote."""
    refs = [*turn.parse.values("vin"), *turn.parse.values("plate")]
    found = _VIN.search(normalise(turn.message.text).upper())
    if found:
        refs.append(found.group(0))
    return refs[0] if refs else None


def _vehicle_options(turn: Turn, vehicles: list[Vehicle], with_all: bool = False) -> list[Option]:
    options = [Option(f"vehicle:{v.id}", vehicle_label(turn, v)) for v in vehicles]
    if with_all and len(vehicles) > 1:
        options.append(turn.option("vehicle:all", "veh_all_cars"))
    return options


Answer = Callable[[Turn, list[Vehicle]], Reply]


def _start(turn: Turn, flow: str, ask_key: str, then: Answer, with_all: bool = False) -> Reply:
    """Find the car(s) the request is about, or ask; `then` answers for the chosen ones."""
    if turn.customer is None:
        return general.need_customer(turn)
    vehicles = turn.vehicles()
    if not vehicles:
        return general.with_menu(turn, "no_vehicles")
    vehicle = named_vehicle(turn, vehicles)
    if vehicle is not None:
        return then(turn, [vehicle])
    other = _other_reference(turn)
    if other is not None:
        log.info("vehicle_not_found", flow=flow)
        return turn.ask(flow, "vehicle", "veh_not_yours", _vehicle_options(turn, vehicles, with_all), ref=other)
    if len(vehicles) == 1:
        return then(turn, vehicles)
    return turn.ask(flow, "vehicle", ask_key, _vehicle_options(turn, vehicles, with_all))


def _vehicle_step(turn: Turn, flow: str, then: Answer, with_all: bool = False) -> Reply | list[Reply]:
    """The answer to "which car?": an offered option or a car named in the text; else asked again."""
    vehicles = turn.vehicles()
    if turn.selected is not None and turn.selected.id == "vehicle:all" and with_all:
        return then(turn, vehicles)
    if turn.selected is not None and turn.selected.id.startswith("vehicle:"):
        wanted = turn.selected.id.removeprefix("vehicle:")
        chosen = next((v for v in vehicles if str(v.id) == wanted), None)
    else:
        chosen = named_vehicle(turn, vehicles)
    if chosen is None:
        return turn.ask(flow, "vehicle", "veh_choose_again", _vehicle_options(turn, vehicles, with_all))
    return then(turn, [chosen])


def _own(turn: Turn, vehicle_id: Any) -> Vehicle | None:
    return next((v for v in turn.vehicles() if v.id == vehicle_id), None)


def _done(turn: Turn, lines: list[str], options: list[Option], attachments: list[Attachment] | None = None) -> Reply:
    """End the flow and answer; the options stay selectable next turn (a number or their words)."""
    turn.finish()
    if options:
        turn.offer(options)
    return Reply("\n".join(lines), list(options), list(attachments or []))


# --- maintenance: the plan and the next due service -----------------------------------------------------------


def plan_for(session: Session, vehicle: Vehicle) -> tuple[int, int]:
    """(interval km, interval months) of the car: the most specific maintenance plan row, else the default."""
    make, model = vehicle.make.casefold(), vehicle.model.casefold()
    best: tuple[int, MaintenancePlan] | None = None
    for plan in session.scalars(select(MaintenancePlan).order_by(MaintenancePlan.id)):
        plan_make, plan_model = (plan.make or "*").strip().casefold(), (plan.model or "*").strip().casefold()
        if plan_make not in ("*", make) or plan_model not in ("*", model):
            continue
        rank = (2 if plan_make != "*" else 0) + (1 if plan_model != "*" else 0)
        if best is None or rank > best[0]:
            best = (rank, plan)
    if best is None:
        return DEFAULT_INTERVAL
    return best[1].interval_km, best[1].interval_months


_MAINTENANCE_WORK = re.compile(r"\boil\b|\bservic(?:e|ing)\b|\bmaintenance\b|صيانة|الزيت|زيت", re.IGNORECASE)
_NOT_MAINTENANCE = re.compile(r"\b(?:ac|a/c|aircon|air[- ]?con\w*)\b|المكيف|مكيف|التكييف", re.IGNORECASE)


def is_scheduled_service(work: str) -> bool:
    """Whether a service record's work resets the maintenance schedule (a periodic service, an oil change)."""
    return bool(_MAINTENANCE_WORK.search(work or "")) and not _NOT_MAINTENANCE.search(work or "")


@dataclass
class Due:
    vehicle: Vehicle
    interval_km: int
    interval_months: int
    last_service: ServiceRecord | None
    base_date: date
    base_km: int | None
    due_date: date
    due_km: int | None
    latest_km: int | None
    latest_on: date | None
    km_per_day: float | None
    km_reached_on: date | None  # when the usual driving reaches due_km (None: unknown)
    today: date

    @property
    def days_left(self) -> int:
        return (self.due_date - self.today).days

    @property
    def km_left(self) -> int | None:
        if self.due_km is None or self.latest_km is None:
            return None
        return self.due_km - self.latest_km

    @property
    def overdue(self) -> bool:
        return self.days_left < 0 or (self.km_left is not None and self.km_left <= 0)

    @property
    def soon(self) -> bool:
        return self.days_left <= SOON_DAYS or (self.km_left is not None and self.km_left <= SOON_KM) or (
            self.km_reached_on is not None and (self.km_reached_on - self.today).days <= SOON_DAYS
        )


def odometer_points(session: Session, vehicle: Vehicle, tz: ZoneInfo) -> list[tuple[date, int]]:
    """Every known odometer value of the car with its (Dubai) date: readings and service records, by date."""
    points = [
        (r.recorded_at.astimezone(tz).date(), r.reading_km)
        for r in session.scalars(select(MileageReading).where(MileageReading.vehicle_id == vehicle.id))
    ]
    points += [
        (r.service_date, r.mileage_km)
        for r in session.scalars(select(ServiceRecord).where(ServiceRecord.vehicle_id == vehicle.id))
        if r.mileage_km is not None
    ]
    return sorted(points)


def next_service(session: Session, vehicle: Vehicle, today: date, tz: ZoneInfo) -> Due:
    """When the car's next service is due, by date and by km (module docstring)."""
    interval_km, months = plan_for(session, vehicle)
    records = list(
        session.scalars(
            select(ServiceRecord)
            .where(ServiceRecord.vehicle_id == vehicle.id)
            .order_by(ServiceRecord.service_date.desc(), ServiceRecord.id.desc())
        )
    )
    last = next((r for r in records if is_scheduled_service(r.work)), None)
    points = odometer_points(session, vehicle, tz)
    base_km: int | None
    if last is not None:
        base_date, base_km = last.service_date, last.mileage_km
    else:
        base_date = vehicle.purchase_date or (points[0][0] if points else vehicle.created_at.astimezone(tz).date())
        base_km = None
    if base_km is None:  # the odometer on that day: the last value before it, else the first after it
        before = [km for day, km in points if day <= base_date]
        after = [km for day, km in points if day > base_date]
        base_km = before[-1] if before else (after[0] if after else None)
    if base_km is None and last is None:
        report = session.scalar(
            select(InspectionReport).where(InspectionReport.vehicle_id == vehicle.id).order_by(InspectionReport.id)
        )
        base_km = report.mileage_km if report is not None else None
    due_date = base_date + relativedelta(months=months)
    due_km = base_km + interval_km if base_km is not None else None

    latest_on: date | None = None
    latest_km: int | None = None
    per_day: float | None = None
    if points:
        latest_on = points[-1][0]
        latest_km = max(km for day, km in points if day == latest_on)  # of several values that day, the highest
        first_on, first_km = points[0]
        span = (latest_on - first_on).days
        if span >= MIN_RATE_SPAN_DAYS and latest_km > first_km:
            per_day = (latest_km - first_km) / span
    reached = None
    if per_day and due_km is not None and latest_km is not None and latest_on is not None and latest_km < due_km:
        reached = latest_on + timedelta(days=int((due_km - latest_km) / per_day))
    return Due(vehicle, interval_km, months, last, base_date, base_km, due_date, due_km, latest_km, latest_on,
               per_day, reached, today)


def _money(amount: Decimal) -> str:
    amount = Decimal(amount)
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


def due_lines(turn: Turn, due: Due, with_history: bool = True) -> list[str]:
    """The answer about the next service: due date and km, where we stand, last service, latest mileage."""
    vehicle = vehicle_label(turn, due.vehicle)
    common = dict(vehicle=vehicle, due_date=fmt_date(turn, due.due_date), months=due.interval_months,
                  interval=fmt_km(due.interval_km))
    if due.due_km is not None:
        lines = [turn.t("veh_due_next", **common, due_km=fmt_km(due.due_km))]
    else:
        lines = [turn.t("veh_due_next_date", **common)]
    km_left = due.km_left
    if due.days_left < 0:
        lines.append(turn.t("veh_due_overdue_date", days=-due.days_left))
    if km_left is not None and km_left <= 0:
        lines.append(turn.t("veh_due_overdue_km", km=fmt_km(due.latest_km or 0), over=fmt_km(-km_left)))
    estimate = due.km_reached_on is not None and due.km_reached_on < due.due_date and bool(due.km_per_day)
    # The usual driving has probably passed the km since the last (old) reading: the km left by that reading
    # would mislead, so only the days are told, and the customer is asked for today's reading.
    passed = estimate and due.km_reached_on is not None and due.km_reached_on <= due.today
    if not due.overdue:
        if due.days_left == 0:
            lines.append(turn.t("veh_due_today"))
        elif km_left is not None and not passed:
            lines.append(turn.t("veh_due_left", days=due.days_left, km_left=fmt_km(km_left)))
        else:
            lines.append(turn.t("veh_due_left_days", days=due.days_left))
        if estimate and due.km_per_day and due.km_reached_on is not None:
            per_month = fmt_km(int(round(due.km_per_day * 30.4, -2)))
            if passed:
                lines.append(turn.t("veh_due_estimate_passed", per_month=per_month, due_km=fmt_km(due.due_km or 0)))
            else:
                lines.append(turn.t("veh_due_estimate", per_month=per_month, due_km=fmt_km(due.due_km or 0),
                                    when=fmt_date(turn, due.km_reached_on)))
    if with_history:
        last = due.last_service
        if last is not None:
            values = dict(date=fmt_date(turn, last.service_date), work=_short(last.work))
            if last.mileage_km is not None:
                lines.append(turn.t("veh_last_service", km=fmt_km(last.mileage_km), **values))
            else:
                lines.append(turn.t("veh_last_service_no_km", **values))
        else:
            lines.append(turn.t("veh_no_service_since_purchase", date=fmt_date(turn, due.base_date)))
        if due.latest_km is not None and due.latest_on is not None:
            stale = (due.today - due.latest_on).days > 60 and not (passed and not due.overdue)
            lines.append(turn.t("veh_latest_mileage_old" if stale else "veh_latest_mileage",
                                km=fmt_km(due.latest_km), date=fmt_date(turn, due.latest_on)))
        else:
            lines.append(turn.t("veh_no_mileage"))
    if due.overdue:
        lines.append(turn.t("veh_due_book_now"))
    elif due.soon:
        lines.append(turn.t("veh_due_soon"))
    return lines


def _short(work: str, limit: int = 90) -> str:
    """The gist of a service record's work: up to the first colon, else the first `limit` characters."""
    head = work.split(":", 1)[0].strip()
    if 0 < len(head) < len(work):
        return head
    return work if len(work) <= limit else work[: limit - 1].rstrip() + "…"


def _due(turn: Turn, vehicle: Vehicle) -> Due:
    return next_service(turn.session, vehicle, turn.local_now.date(), turn.tz)


# --- maintenance_due ------------------------------------------------------------------------------------------


@intent("maintenance_due")
def maintenance_due(turn: Turn) -> Reply:
    # "I'm at 45,000 km, when is my next service?" may be a hypothetical ("what is due at 60k?"): the km is
    # used for the answer, not stored as a reading (report_mileage stores readings).
    turn.data = {"said_km": mileage_in(turn) if turn.customer is not None else None}
    return _start(turn, "maintenance_due", "veh_ask_vehicle_due", _due_answer)


@step("maintenance_due", "vehicle", keeps=("maintenance_due",))
def maintenance_due_vehicle(turn: Turn) -> Reply | list[Reply]:
    return _vehicle_step(turn, "maintenance_due", _due_answer)


def _due_answer(turn: Turn, vehicles: list[Vehicle]) -> Reply:
    vehicle = vehicles[0]
    due = _due(turn, vehicle)
    lines = due_lines(turn, due)
    said = turn.data.get("said_km")
    if said is not None and due.due_km is not None:
        key = "veh_due_at_km_left" if said < due.due_km else "veh_due_at_km_over"
        lines.insert(1, turn.t(key, km=fmt_km(said), left=fmt_km(abs(due.due_km - said))))
    log.info("maintenance_due_told", vehicle_id=vehicle.id, overdue=due.overdue)
    options = [turn.intent_option("book_service", "veh_book", vehicle=vehicle.id),
               turn.intent_option("report_mileage", "veh_report_mileage", vehicle=vehicle.id)]
    return _done(turn, lines, options)


# --- service_history ------------------------------------------------------------------------------------------

_INSPECTION_WORDS = re.compile(
    r"\bpdi\b|pre[- ]?delivery|before (?:the )?delivery|before i bought|inspection report|"
    r"\binspection\b.*\b(?:find|found|flag|said|report)|items? to watch|flagged|advisor(?:y|ies)|"
    r"قبل التسليم|قبل الاستلام|تقرير الفحص|فحص ما قبل|ملاحظات الفحص|الفحص قبل",
    re.IGNORECASE,
)
_DOCUMENT_WORDS = re.compile(
    r"\bdocuments?\b|\bcertificates?\b|\bcertification\b|history report|history certificate|vehicle history|"
    r"car ?fax|service book|\bpdf\b|\bpapers\b|مستند|مستندات|وثيقة|وثائق|شهادة|الشهادة|تقرير تاريخ|تاريخ المركبة|"
    r"تاريخ السيارة|كتيب الصيانة",
    re.IGNORECASE,
)
# Words of a service record's work for each service type of the catalogue (the NLU's `service_type`).
_SERVICE_WORK: dict[str, tuple[str, ...]] = {
    "oil_change": (r"\boil\b",),
    "minor_service": (r"minor service",),
    "major_service": (r"major service",),
    "air_conditioning": (r"\bac\b", r"a/c", r"air ?con", r"regas"),
    "brakes": (r"brake",),
    "tyres": (r"tyre", r"\btire"),
    "battery": (r"battery",),
    "wheel_alignment": (r"alignment",),
    "detailing": (r"detail", r"clean"),
    "car_wash": (r"wash",),
    "diagnostics": (r"diagnos",),
}


def _section_in(turn: Turn) -> str:
    said = normalise(turn.message.text)
    if _INSPECTION_WORDS.search(said):
        return "inspection"
    if _DOCUMENT_WORDS.search(said):
        return "documents"
    return "records"


def _service_filter(turn: Turn) -> str | None:
    code = next((c for c in turn.parse.values("service_type") if c in _SERVICE_WORK), None)
    return code


@dataclass
class Section:
    head: list[str]
    entries: list[str]
    attachments: list[Attachment]


def _records_section(turn: Turn, vehicle: Vehicle, service: str | None) -> Section:
    label = vehicle_label(turn, vehicle)
    records = list(
        turn.session.scalars(
            select(ServiceRecord)
            .where(ServiceRecord.vehicle_id == vehicle.id)
            .order_by(ServiceRecord.service_date.desc(), ServiceRecord.id.desc())
        )
    )
    if not records:
        return Section([turn.t("veh_records_none", vehicle=label)], [], [])
    if service is None:
        head = [turn.t("veh_records_head", vehicle=label, total=len(records))]
    else:
        patterns = _SERVICE_WORK[service]
        matching = [r for r in records if any(re.search(p, _gist(r), re.IGNORECASE) for p in patterns)]
        row = turn.session.scalar(select(ServiceType).where(ServiceType.code == service))
        name = (row.name_ar if turn.language == "ar" else row.name_en) if row is not None else service
        if matching:
            records = matching
            head = [turn.t("veh_records_filtered_head", service=name, vehicle=label, total=len(records))]
        else:
            head = [turn.t("veh_records_filter_none", service=name, vehicle=label),
                    turn.t("veh_records_head", vehicle=label, total=len(records))]
    entries = []
    for record in records:
        cost = turn.t("veh_record_cost", amount=_money(record.cost_aed)) if record.cost_aed is not None else ""
        values = dict(date=fmt_date(turn, record.service_date), work=record.work, cost=cost)
        if record.mileage_km is not None:
            line = turn.t("veh_record_line", km=fmt_km(record.mileage_km), **values)
        else:
            line = turn.t("veh_record_line_no_km", **values)
        if record.parts:
            line += "\n" + turn.t("veh_record_parts", parts=", ".join(record.parts))
        entries.append(line)
    return Section(head, entries, [])


def _gist(record: ServiceRecord) -> str:
    """What a record is about: its work up to the first colon (not "tyre pressures set" inside a minor
    service's checklist) and its parts (the engine oil of that minor service)."""
    return " ".join([record.work.split(":", 1)[0], *(record.parts or [])])


def _inspection_section(turn: Turn, vehicle: Vehicle) -> Section:
    label = vehicle_label(turn, vehicle)
    report = turn.session.scalar(
        select(InspectionReport)
        .where(InspectionReport.vehicle_id == vehicle.id)
        .order_by(InspectionReport.inspected_on.desc(), InspectionReport.id.desc())
    )
    if report is None:
        return Section([turn.t("veh_inspection_none", vehicle=label)], [], [])
    ar = turn.language == "ar"
    head = [turn.t("veh_inspection_head", vehicle=label, date=fmt_date(turn, report.inspected_on),
                   km=fmt_km(report.mileage_km), inspector=report.inspector,
                   summary=report.summary_ar if ar else report.summary_en)]
    entries = []
    # Items to watch first: they are what the customer needs to act on.
    for result, key in (("watch", "veh_inspection_watch"), ("fixed", "veh_inspection_fixed")):
        for item in report.items:
            if item.result == result:
                finding = (item.finding_ar if ar else item.finding_en) or (item.finding_en or "")
                entries.append(turn.t(key, item=item.item_ar if ar else item.item_en, finding=finding))
    ok = [item.item_ar if ar else item.item_en for item in report.items if item.result == "ok"]
    if ok:
        entries.append(turn.t("veh_inspection_ok", items=("، " if ar else ", ").join(ok)))
    return Section(head, entries, [])


def _documents_section(turn: Turn, vehicle: Vehicle) -> Section:
    label = vehicle_label(turn, vehicle)
    documents = list(
        turn.session.scalars(
            select(VehicleDocument)
            .where(VehicleDocument.vehicle_id == vehicle.id)
            .order_by(VehicleDocument.issued_on, VehicleDocument.id)
        )
    )
    if not documents:
        return Section([turn.t("veh_documents_none", vehicle=label)], [], [])
    ar = turn.language == "ar"
    entries, attachments = [], []
    for document in documents:
        title = document.title_ar if ar else document.title_en
        entries.append(turn.t("veh_document_line", title=title, date=fmt_date(turn, document.issued_on),
                              url=document.url))
        attachments.append(Attachment("document", document.url, title))
    return Section([turn.t("veh_documents_head", vehicle=label)], entries, attachments)


def _section(turn: Turn, vehicle: Vehicle, name: str, service: str | None) -> Section:
    if name == "inspection":
        return _inspection_section(turn, vehicle)
    if name == "documents":
        return _documents_section(turn, vehicle)
    return _records_section(turn, vehicle, service)


def _history_page(turn: Turn, vehicle: Vehicle, name: str, offset: int = 0, service: str | None = None) -> Reply:
    """One page of a section; the flow remembers where it stopped so "more" continues there."""
    section = _section(turn, vehicle, name, service)
    total = len(section.entries)
    offset = max(0, min(offset, total))
    end = min(offset + PAGE_SIZE, total)
    lines = list(section.head) if offset == 0 else []
    lines += section.entries[offset:end]
    if total > PAGE_SIZE:
        lines.append(turn.t("veh_page", first=offset + 1, last=end, total=total))
    options = []
    if end < total:
        options.append(turn.option("more", "veh_more"))
    options += [turn.option(f"section:{other}", f"veh_section_{other}") for other in SECTIONS if other != name]
    reply = turn.ask("service_history", "browse", "veh_more", options)
    turn.data = {"vehicle_id": vehicle.id, "section": name, "offset": end, "service": service}
    reply.text = "\n".join(lines)
    attachments = section.attachments if offset == 0 else []
    reply.attachments = list(attachments)
    log.info("service_history_shown", vehicle_id=vehicle.id, section=name, offset=offset, total=total)
    return reply


@intent("service_history")
def service_history(turn: Turn) -> Reply | list[Reply]:
    asked = {"section": _section_in(turn), "service": _service_filter(turn)}
    turn.data = {"asked": asked}

    def answer(turn: Turn, vehicles: list[Vehicle]) -> Reply:
        return _history_page(turn, vehicles[0], asked["section"], 0, asked["service"])

    return _start(turn, "service_history", "veh_ask_vehicle_history", answer)


@step("service_history", "vehicle", keeps=("service_history",))
def service_history_vehicle(turn: Turn) -> Reply | list[Reply]:
    asked = turn.data.get("asked") or {}

    def answer(turn: Turn, vehicles: list[Vehicle]) -> Reply:
        section = _section_in(turn)
        if section == "records" and asked.get("section"):
            section = asked["section"]
        return _history_page(turn, vehicles[0], section, 0, _service_filter(turn) or asked.get("service"))

    return _vehicle_step(turn, "service_history", answer)


_MORE_WORDS = {"more", "next", "show more", "continue", "more please", "المزيد", "التالي", "كمل", "كمّل", "باقي",
               "الباقي", "زيد", "اكمل", "أكمل", "المزيد من فضلك"}


@step("service_history", "browse", keeps=("service_history",))
def service_history_browse(turn: Turn) -> Reply | list[Reply]:
    data = turn.data
    vehicle = _own(turn, data.get("vehicle_id"))
    if vehicle is None:
        return dispatch_elsewhere(turn)
    section, service = data.get("section", "records"), data.get("service")
    said = " ".join(re.sub(r"[^\w\s]", " ", normalise(turn.message.text).lower()).split())
    if (turn.selected is not None and turn.selected.id == "more") or (turn.selected is None and said in _MORE_WORDS):
        if int(data.get("offset", 0)) >= len(_section(turn, vehicle, section, service).entries):
            return _done(turn, [turn.t("veh_no_more")], [])
        return _history_page(turn, vehicle, section, int(data.get("offset", 0)), service)
    if turn.selected is not None and turn.selected.id.startswith("section:"):
        return _history_page(turn, vehicle, turn.selected.id.removeprefix("section:"), 0, None)
    if turn.selected is None and turn.parse.intent == "service_history":
        # A follow-up about the same car ("and the inspection report?"), unless another car is named.
        other = named_vehicle(turn, turn.vehicles()) or vehicle
        return _history_page(turn, other, _section_in(turn), 0, _service_filter(turn))
    # Unclear: nothing understood, or no clear new request (a vague "the white one" may look like small
    # talk or out of scope at middling confidence).
    unclear = turn.parse.intent == "nlu_fallback" or (
        turn.parse.intent not in TASK_INTENTS and turn.parse.confidence < SWITCH_CONFIDENCE
    )
    if turn.selected is None and unclear and turn.parse.degraded is None:
        # Not a choice and not another request: ask again, keeping the page where it is.
        options = [Option(o["id"], o["label"]) for o in turn.state.data.get("options", [])]
        return turn.ask("service_history", "browse", "veh_browse_again", options)
    return dispatch_elsewhere(turn)


# --- recall_check ---------------------------------------------------------------------------------------------


def recall_applies(recall: Recall, vehicle: Vehicle) -> bool:
    """A recall applies to the listed VINs when it lists any, else by make, model and year range."""
    if recall.vins:
        return vehicle.vin.upper() in {v.strip().upper() for v in recall.vins}
    return (
        recall.make.casefold() == vehicle.make.casefold()
        and (recall.model is None or recall.model.casefold() == vehicle.model.casefold())
        and recall.year_from <= vehicle.year <= recall.year_to
    )


def recalls_of(session: Session, vehicle: Vehicle) -> tuple[list[Recall], list[tuple[Recall, date]]]:
    """(open recalls, completed recalls with their date) of one car, oldest campaign first."""
    recalls = [
        r for r in session.scalars(select(Recall).where(Recall.active.is_(True)).order_by(Recall.published_on, Recall.id))
        if recall_applies(r, vehicle)
    ]
    done = {
        c.recall_id: c.completed_on
        for c in session.scalars(select(RecallCompletion).where(RecallCompletion.vehicle_id == vehicle.id))
    }
    return [r for r in recalls if r.id not in done], [(r, done[r.id]) for r in recalls if r.id in done]


def _recall_answer(turn: Turn, vehicles: list[Vehicle]) -> Reply:
    ar = turn.language == "ar"
    lines, any_open = [], False
    for vehicle in vehicles:
        label = vehicle_label(turn, vehicle)
        open_, done = recalls_of(turn.session, vehicle)
        for recall in open_:
            any_open = True
            lines.append(turn.t("veh_recall_open", vehicle=label, code=recall.campaign_code,
                                title=recall.title_ar if ar else recall.title_en,
                                description=recall.description_ar if ar else recall.description_en,
                                remedy=recall.remedy_ar if ar else recall.remedy_en))
        for recall, on in done:
            lines.append(turn.t("veh_recall_done", vehicle=label, code=recall.campaign_code,
                                title=recall.title_ar if ar else recall.title_en, date=fmt_date(turn, on)))
        if not open_ and not done:
            lines.append(turn.t("veh_recall_none", vehicle=label))
        elif not open_:
            pass
    options = []
    if any_open:
        lines.append(turn.t("veh_recall_offer"))
        options.append(turn.option("intent:book_service", "veh_book_recall"))
    log.info("recall_checked", vehicles=len(vehicles), open=any_open)
    return _done(turn, lines, options)


@intent("recall_check")
def recall_check(turn: Turn) -> Reply | list[Reply]:
    return _start(turn, "recall_check", "veh_ask_vehicle_recall", _recall_answer, with_all=True)


@step("recall_check", "vehicle", keeps=("recall_check",))
def recall_check_vehicle(turn: Turn) -> Reply | list[Reply]:
    return _vehicle_step(turn, "recall_check", _recall_answer, with_all=True)


# --- report_mileage -------------------------------------------------------------------------------------------

_NUMBER = re.compile(
    r"(?<![\dA-Za-z.,])(\d{1,3}(?:[,. ]\d{3})+(?![\d])|\d+(?:\.\d+)?)"
    r"\s*(k\b|thousand\b|ألف|الف|آلاف|الاف|ألاف)?"
    r"\s*(kilometers?\b|kilometres?\b|kms?\b|كم|كيلو(?:متر)?|كلم)?",
    re.IGNORECASE,
)


def parse_mileage(text: str) -> int | None:
    """An odometer reading in km from free text: "85,000 km", "85.000", "120k", "39.5k", "104 thousand",
    "٤٥ ألف", "٧٣٤٥٠ كم". A number with a unit or multiplier wins over a bare one; years and tiny numbers
    are not readings."""
    said = normalise(text)
    best: tuple[int, int] | None = None  # (score, km)
    for match in _NUMBER.finditer(said):
        digits, multiplier, unit = match.group(1), match.group(2), match.group(3)
        if re.fullmatch(r"\d{1,3}(?:[,. ]\d{3})+", digits):
            value = float(re.sub(r"[,. ]", "", digits))
        else:
            value = float(digits)
        if multiplier:
            value *= 1_000
        km = int(round(value))
        score = (2 if multiplier else 0) + (1 if unit else 0)
        if not score and re.fullmatch(r"(?:19|20)\d\d", digits):
            continue  # "my 2020 Land Cruiser"
        if km < MIN_READING_KM:
            continue
        if best is None or score > best[0]:
            best = (score, km)
    return best[1] if best is not None else None


def mileage_in(turn: Turn) -> int | None:
    """The reading in the message: the NLU's `mileage` entity, else a number in the text (VINs, plates
    and ticket ids left out)."""
    for value in turn.parse.values("mileage"):
        km = parse_mileage(value)
        if km is not None:
            return km
    text = turn.message.text or ""
    for entity in turn.parse.entities:
        if entity.name in ("plate", "vin", "ticket_id"):
            text = text.replace(entity.text, " ")
    for vehicle in turn.vehicles():
        if vehicle.plate:
            text = re.sub(re.escape(vehicle.plate), " ", text, flags=re.IGNORECASE)
    text = re.sub(r"\b[A-HJ-NPR-Za-hj-npr-z0-9]{17}\b", " ", text)
    return parse_mileage(text)


@dataclass
class Check:
    verdict: str  # "ok", "same", "backwards", "jump", "age"
    last_km: int | None = None
    last_on: date | None = None


def check_reading(session: Session, vehicle: Vehicle, km: int, today: date, tz) -> Check:
    """Whether a new reading makes sense: not lower than any we have, not an absurd jump for the days since
    the highest one or for the car's age (module docstring)."""
    points = odometer_points(session, vehicle, tz)
    last_on, last_km = max(points, key=lambda p: (p[1], p[0])) if points else (None, None)
    if last_km is not None and last_on is not None:
        if km < last_km:
            return Check("backwards", last_km, last_on)
        if km == last_km:
            return Check("same", last_km, last_on)
        days = max((today - last_on).days, 1)
        if km - last_km > MAX_KM_PER_DAY * days + TRIP_ALLOWANCE_KM:
            return Check("jump", last_km, last_on)
    if km > MAX_KM_PER_YEAR * _age_years(vehicle, today) or km > MAX_READING_KM:
        return Check("age", last_km, last_on)
    return Check("ok", last_km, last_on)


def _age_years(vehicle: Vehicle, today: date) -> float:
    """Years since the car's model year began (at least one)."""
    return max((today - date(vehicle.year, 1, 1)).days / 365.25, 1.0)


@intent("report_mileage")
def report_mileage(turn: Turn) -> Reply | list[Reply]:
    km = mileage_in(turn) if turn.customer is not None else None
    turn.data = {"km": km}
    return _start(turn, "report_mileage", "veh_ask_vehicle_mileage", _mileage_vehicle)


@step("report_mileage", "vehicle", keeps=("report_mileage",))
def report_mileage_vehicle(turn: Turn) -> Reply | list[Reply]:
    return _vehicle_step(turn, "report_mileage", _mileage_vehicle)


def _mileage_vehicle(turn: Turn, vehicles: list[Vehicle]) -> Reply:
    vehicle = vehicles[0]
    km = turn.data.get("km")
    if km is None:
        km = mileage_in(turn)
    if km is None:
        turn.data = {"vehicle_id": vehicle.id}
        return turn.ask("report_mileage", "reading", "veh_ask_km", vehicle=vehicle_label(turn, vehicle))
    return _take_reading(turn, vehicle, int(km))


@step("report_mileage", "reading", keeps=("report_mileage", "maintenance_due"))
def report_mileage_reading(turn: Turn) -> Reply | list[Reply]:
    vehicle = _own(turn, turn.data.get("vehicle_id"))
    if vehicle is None:
        return dispatch_elsewhere(turn)
    if turn.selected is not None and turn.selected.id.startswith("intent:"):
        return dispatch_elsewhere(turn)
    km = mileage_in(turn)
    if km is None and turn.parse.intent == "maintenance_due" and turn.parse.confidence >= SWITCH_CONFIDENCE:
        return dispatch_elsewhere(turn)  # "when is my next service?" instead of a reading
    if km is None:
        return turn.ask("report_mileage", "reading", "veh_km_again")
    return _take_reading(turn, vehicle, km)


@step("report_mileage", "confirm", keeps=("report_mileage", "affirm", "deny"))
def report_mileage_confirm(turn: Turn) -> Reply | list[Reply]:
    vehicle = _own(turn, turn.data.get("vehicle_id"))
    pending = turn.data.get("pending_km")
    if vehicle is None or pending is None:
        return dispatch_elsewhere(turn)
    answer = turn.yes_no()
    typed = mileage_in(turn) if turn.selected is None else None
    if typed is not None and typed != pending:
        return _take_reading(turn, vehicle, typed)  # a corrected reading, checked afresh
    if answer is True or typed == pending:
        log.info("mileage_unusual_confirmed", vehicle_id=vehicle.id)
        return _store(turn, vehicle, int(pending))
    if answer is False:
        turn.data = {"vehicle_id": vehicle.id}
        return turn.ask("report_mileage", "reading", "veh_km_ask_correct")
    return turn.ask("report_mileage", "confirm", "veh_km_confirm_again", _confirm_options(turn), km=fmt_km(pending))


def _confirm_options(turn: Turn) -> list[Option]:
    return [turn.option("yes", "veh_km_yes"), turn.option("no", "veh_km_no")]


def _take_reading(turn: Turn, vehicle: Vehicle, km: int) -> Reply:
    today = turn.local_now.date()
    check = check_reading(turn.session, vehicle, km, today, turn.tz)
    label = vehicle_label(turn, vehicle)
    turn.data = {"vehicle_id": vehicle.id}
    if check.verdict == "backwards":
        log.info("mileage_refused_backwards", vehicle_id=vehicle.id)
        return turn.ask("report_mileage", "reading", "veh_km_backwards", km=fmt_km(km), last=fmt_km(check.last_km or 0),
                        date=fmt_date(turn, check.last_on or today), vehicle=label)
    if check.verdict in ("jump", "age"):
        log.info("mileage_unusual", vehicle_id=vehicle.id, verdict=check.verdict)
        turn.remember(pending_km=km)
        if check.verdict == "jump":
            return turn.ask("report_mileage", "confirm", "veh_km_jump", _confirm_options(turn), km=fmt_km(km),
                            delta=fmt_km(km - (check.last_km or 0)), last=fmt_km(check.last_km or 0),
                            date=fmt_date(turn, check.last_on or today), days=(today - (check.last_on or today)).days)
        years = _age_years(vehicle, today)
        return turn.ask("report_mileage", "confirm", "veh_km_age", _confirm_options(turn), km=fmt_km(km),
                        per_year=fmt_km(int(round(km / years, -3))), year=vehicle.year)
    if check.verdict == "same":
        return _told(turn, vehicle, [turn.t("veh_km_same", km=fmt_km(km), vehicle=label)])
    return _store(turn, vehicle, km)


def _store(turn: Turn, vehicle: Vehicle, km: int) -> Reply:
    turn.session.add(MileageReading(vehicle_id=vehicle.id, reading_km=km, recorded_at=turn.now, source="customer"))
    vehicle.updated_at = turn.now
    turn.session.flush()
    log.info("mileage_recorded", vehicle_id=vehicle.id)
    return _told(turn, vehicle, [turn.t("veh_km_saved", km=fmt_km(km), vehicle=vehicle_label(turn, vehicle))])


def _told(turn: Turn, vehicle: Vehicle, lines: list[str]) -> Reply:
    """After a reading: the recomputed next service, and the offer to book it."""
    due = _due(turn, vehicle)
    lines = lines + due_lines(turn, due, with_history=False)
    return _done(turn, lines, [turn.intent_option("book_service", "veh_book", vehicle=vehicle.id)])
