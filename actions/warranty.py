"""Warranty: what the customer's cover includes (`warranty_coverage`) and claims for a fault (`warranty_claim`).

The terms come from the vehicle's warranty contract (tables `warranties` and `warranty_tiers`): tier,
covered and excluded components, end date and the odometer reading at which cover ends, whichever comes
first. A claim is refused politely when the cover has ended (by date or by km) or the component is not
covered, with a paid repair offered instead; otherwise it opens ticket WC-<n> with a same-day answer
deadline (actions/cases.py `same_day_deadline`) and alerts the warranty desk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from actions import general
from actions.cases import (
    dispatch_elsewhere,
    fmt_date,
    fmt_km,
    fmt_when,
    is_safety,
    normalise_digits,
    same_day_deadline,
    vehicle_chosen,
    vehicle_label,
    vehicle_named,
    vehicle_options,
)
from actions.registry import intent, step
from actions.turn import Turn
from bot.messages import register
from bot.types import Option, Reply
from db.models import Lead, MileageReading, Vehicle, Warranty, WarrantyClaim, WarrantyTier
from dealerbot.logging import get_logger

log = get_logger("actions.warranty")

# Component codes (as in the warranty contracts and the NLU's `component` entity) and their names.
COMPONENTS: dict[str, tuple[str, str]] = {
    "engine": ("Engine", "المحرك"),
    "transmission": ("Transmission (gearbox)", "ناقل الحركة (القير)"),
    "electrical": ("Electrical system", "النظام الكهربائي"),
    "cooling": ("Engine cooling system", "نظام تبريد المحرك"),
    "fuel_system": ("Fuel system", "نظام الوقود"),
    "steering": ("Steering", "نظام التوجيه"),
    "turbo": ("Turbocharger", "الشاحن التوربيني"),
    "air_conditioning": ("Air conditioning", "المكيف"),
    "suspension": ("Suspension", "نظام التعليق"),
    "brakes": ("Brake system", "نظام الفرامل"),
    "infotainment": ("Infotainment system", "نظام المعلومات والترفيه"),
    "tyres": ("Tyres", "الإطارات"),
    "brake_pads": ("Brake pads", "فحمات الفرامل"),
    "brake_discs": ("Brake discs", "أقراص الفرامل"),
    "wiper_blades": ("Wiper blades", "مساحات الزجاج"),
    "battery": ("Battery", "البطارية"),
    "bodywork": ("Bodywork and paint", "الهيكل والطلاء"),
    "upholstery": ("Upholstery", "التنجيد والمقاعد"),
    "glass": ("Glass", "الزجاج"),
    "accident_damage": ("Accident damage", "أضرار الحوادث"),
    "wear_and_tear": ("Normal wear and tear", "الاستهلاك الطبيعي"),
}

# Words for a component in free text, most specific first ("brake pads" before "brakes", "AC not cooling"
# is the air conditioning, not the engine cooling).
_COMPONENT_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("air_conditioning", ("ac", "a/c", "a.c", "aircon", "air con", "air conditioning", "air conditioner",
                          "مكيف", "المكيف", "التكييف", "تكييف", "المكيّف")),
    ("brake_pads", ("brake pads", "brake pad", "pads", "فحمات", "الفحمات")),
    ("brake_discs", ("brake discs", "brake disc", "discs", "rotors", "ديسكات", "الديسكات", "أقراص الفرامل",
                     "اقراص الفرامل")),
    ("wiper_blades", ("wiper", "wipers", "wiper blades", "مساحات", "المساحات", "مساحة")),
    ("accident_damage", ("accident", "collision", "crash", "حادث", "الحادث", "صدمة")),
    ("wear_and_tear", ("wear and tear", "استهلاك", "الاستهلاك")),
    ("transmission", ("transmission", "gearbox", "gear box", "gears", "gear", "ناقل الحركة", "القير", "الجير",
                      "جير", "قير")),
    ("turbo", ("turbo", "turbocharger", "تيربو", "التيربو", "تربو", "التربو")),
    ("fuel_system", ("fuel pump", "fuel system", "injector", "injectors", "fuel", "مضخة البنزين", "طرمبة البنزين",
                     "البنزين", "الوقود", "بخاخات", "البخاخات")),
    ("cooling", ("cooling", "radiator", "overheating", "overheats", "overheat", "coolant", "water pump", "رديتر",
                 "الرديتر", "الراديتر", "تبريد", "التبريد", "حرارة المحرك", "يسخن", "ترتفع الحرارة")),
    ("engine", ("engine", "محرك", "المحرك", "مكينة", "المكينة", "الماكينة", "ماكينة")),
    ("steering", ("steering", "power steering", "دركسون", "الدركسون", "التوجيه", "الستيرنج")),
    ("suspension", ("suspension", "shock absorber", "shock absorbers", "shocks", "مساعدات", "المساعدات",
                    "التعليق", "المقصات")),
    ("brakes", ("brake", "brakes", "abs", "فرامل", "الفرامل", "بريك", "البريك")),
    ("tyres", ("tyre", "tyres", "tire", "tires", "كفر", "كفرات", "الكفرات", "إطار", "إطارات", "الإطارات", "اطارات",
               "الاطارات", "تواير")),
    ("battery", ("battery", "بطارية", "البطارية", "بطاريه", "البطاريه")),
    ("glass", ("glass", "windscreen", "windshield", "window", "زجاج", "الزجاج", "القزاز")),
    ("bodywork", ("body", "bodywork", "paint", "dent", "scratch", "rust", "صبغ", "الصبغ", "طلاء", "الطلاء",
                  "الهيكل", "خدش", "صدأ")),
    ("upholstery", ("seat", "seats", "upholstery", "leather", "مقاعد", "المقاعد", "الجلد", "التنجيد", "الفرش")),
    ("infotainment", ("screen", "infotainment", "radio", "navigation", "carplay", "bluetooth", "speakers",
                      "الشاشة", "شاشة", "الراديو", "الملاحة", "السماعات")),
    ("electrical", ("electrical", "electric", "electrics", "wiring", "alternator", "starter", "كهرباء",
                    "الكهرباء", "كهربائي", "الدينمو", "السلف")),
)

_WEAR = {"tyres", "brake_pads", "brake_discs", "wiper_blades", "battery", "wear_and_tear"}
_BODY = {"bodywork", "upholstery", "glass"}

register(
    {
        **{f"warranty_component_{code}": {"en": en, "ar": ar} for code, (en, ar) in COMPONENTS.items()},
        "warranty_component_other": {"en": "Something else", "ar": "شيء آخر"},
        # --- coverage ---
        "warranty_active": {
            "en": "{vehicle}: {tier} (contract {contract}).\nValid until {end} or {limit} km on the odometer, "
            "whichever comes first: {days} days and {km_left} km left{reading}.",
            "ar": "{vehicle}: {tier} (العقد {contract}).\nسارية حتى {end} أو حتى {limit} كم على العداد، أيهما أسبق: "
            "متبقٍ {days} يوماً و{km_left} كم{reading}.",
        },
        "warranty_reading": {
            "en": " (last reading {km} km on {date})",
            "ar": " (آخر قراءة {km} كم بتاريخ {date})",
        },
        "warranty_ended_date": {
            "en": "{vehicle}: the {tier} (contract {contract}) ended on {end}.",
            "ar": "{vehicle}: انتهت {tier} (العقد {contract}) بتاريخ {end}.",
        },
        "warranty_ended_km": {
            "en": "{vehicle}: the {tier} (contract {contract}) ended when the odometer passed {limit} km "
            "(last reading {km} km).",
            "ar": "{vehicle}: انتهت {tier} (العقد {contract}) عندما تجاوز العداد {limit} كم (آخر قراءة {km} كم).",
        },
        "warranty_none": {
            "en": "{vehicle}: there is no warranty with us on this car.",
            "ar": "{vehicle}: لا يوجد ضمان لدينا على هذه السيارة.",
        },
        "warranty_covered_list": {"en": "Covered: {items}.", "ar": "مشمول: {items}."},
        "warranty_excluded_list": {"en": "Not covered: {items}.", "ar": "غير مشمول: {items}."},
        "warranty_upgrade_line": {
            "en": "Upgrade to {tier}: {description} From AED {price}.",
            "ar": "الترقية إلى {tier}: {description} ابتداءً من {price} درهم.",
        },
        "warranty_extend_line": {
            "en": "Extend: you can renew your {tier} before it ends, from AED {price}; an advisor confirms the "
            "price for your car's age and mileage.",
            "ar": "التمديد: يمكنك تجديد {tier} قبل انتهائها ابتداءً من {price} درهم، ويؤكد لك المستشار السعر "
            "حسب عمر سيارتك والمسافة المقطوعة.",
        },
        "warranty_new_cover_intro": {
            "en": "You can take new cover for this car (subject to its age and mileage):",
            "ar": "يمكنك الحصول على تغطية جديدة لهذه السيارة (حسب عمرها والمسافة المقطوعة):",
        },
        "warranty_tier_line": {
            "en": "• {tier}: {description} From AED {price}.",
            "ar": "• {tier}: {description} ابتداءً من {price} درهم.",
        },
        "warranty_is_covered": {
            "en": "Yes — {component}: covered by your {tier} on the {vehicle}, until {end} or {limit} km, "
            "whichever comes first.",
            "ar": "نعم — {component}: مشمول في {tier} لسيارتك {vehicle}، حتى {end} أو حتى {limit} كم، أيهما أسبق.",
        },
        "warranty_not_covered_excluded": {
            "en": "No — {component}: your {tier} on the {vehicle} does not cover it, because {reason}.",
            "ar": "لا — {component}: لا تشمله {tier} لسيارتك {vehicle}، {reason}.",
        },
        "warranty_not_covered_tier": {
            "en": "No — {component}: it is not part of your {tier} on the {vehicle}.",
            "ar": "لا — {component}: ليس ضمن {tier} لسيارتك {vehicle}.",
        },
        "warranty_better_tier": {
            "en": "It is included in {tier} (from AED {price}).",
            "ar": "وهو مشمول في {tier} (ابتداءً من {price} درهم).",
        },
        "warranty_not_covered_ended": {
            "en": "{component} is no longer covered on the {vehicle}, because the warranty has ended.",
            "ar": "{component} لم يعد مشمولاً لسيارتك {vehicle} لأن الضمان انتهى.",
        },
        "warranty_not_covered_none": {
            "en": "{component} is not covered on the {vehicle}: there is no warranty with us on this car.",
            "ar": "{component} غير مشمول لسيارتك {vehicle}: لا يوجد ضمان لدينا على هذه السيارة.",
        },
        "warranty_unknown_component": {
            "en": "{component} is not listed in your {tier} on the {vehicle}. A warranty advisor can check it "
            "for you.",
            "ar": "{component} غير مذكور في {tier} لسيارتك {vehicle}. يمكن لمستشار الضمان التحقق منه لك.",
        },
        "warranty_why_wear": {
            "en": "it wears out in normal use and is replaced as part of maintenance",
            "ar": "فهو يُستهلك مع الاستخدام العادي ويُستبدل ضمن الصيانة",
        },
        "warranty_why_body": {
            "en": "cosmetic and body parts are not mechanical components",
            "ar": "فأجزاء الهيكل والمظهر ليست من المكونات الميكانيكية",
        },
        "warranty_why_accident": {
            "en": "damage from an accident is a matter for your motor insurance",
            "ar": "فأضرار الحوادث تغطيها وثيقة تأمين السيارة",
        },
        "warranty_why_terms": {
            "en": "the contract's terms exclude it",
            "ar": "فشروط العقد تستثنيه",
        },
        "warranty_choose_vehicle": {
            "en": "Which car would you like to check the warranty for?",
            "ar": "لأي سيارة تريد معرفة الضمان؟",
        },
        "warranty_ask_advisor": {"en": "Ask an advisor about extending or upgrading", "ar": "اسأل مستشاراً عن التمديد أو الترقية"},
        "warranty_make_claim": {"en": "Make a warranty claim", "ar": "تقديم مطالبة ضمان"},
        "warranty_book_paid": {"en": "Book a paid repair", "ar": "حجز إصلاح مدفوع"},
        "warranty_talk_person": {"en": "Talk to a person", "ar": "التحدث مع موظف"},
        "warranty_advisor_requested": {
            "en": "Done — a warranty advisor will call you within 24 hours about extending or upgrading the cover "
            "of your {vehicle}.",
            "ar": "تم — سيتصل بك مستشار الضمان خلال 24 ساعة بخصوص تمديد أو ترقية تغطية سيارتك {vehicle}.",
        },
        # --- claim ---
        "claim_choose_vehicle": {
            "en": "I can open a warranty claim. Which car has the fault?",
            "ar": "يمكنني فتح مطالبة ضمان. أي سيارة فيها العطل؟",
        },
        "claim_ask_component": {
            "en": "Which part is faulty? Choose one, or tell me in your own words.",
            "ar": "ما الجزء الذي فيه العطل؟ اختر واحداً أو أخبرني بكلماتك.",
        },
        "claim_ask_component_again": {
            "en": "Sorry, I did not recognise that part. Please choose one of these, or “Something else”:",
            "ar": "عذراً، لم أتعرف على هذا الجزء. اختر واحداً من هذه أو «شيء آخر»:",
        },
        "claim_ask_component_other": {
            "en": "Which part is it? Write it in a few words.",
            "ar": "ما هو الجزء؟ اكتبه في كلمات قليلة.",
        },
        "claim_ask_description": {
            "en": "Please describe the fault: what happens, since when, and any warning lights or noises.",
            "ar": "يرجى وصف العطل: ماذا يحدث، ومنذ متى، وهل تظهر أي لمبات تحذير أو أصوات.",
        },
        "claim_ask_description_again": {
            "en": "I need a short description of the fault for the warranty advisor. What happens?",
            "ar": "أحتاج إلى وصف قصير للعطل لمستشار الضمان. ماذا يحدث؟",
        },
        "claim_ask_photos": {
            "en": "If you have photos of the fault (a warning light, a leak, a noise on video), send them now — "
            "or choose “Submit without photos”.",
            "ar": "إذا كانت لديك صور للعطل (لمبة تحذير، تسريب، فيديو للصوت) فأرسلها الآن — أو اختر «إرسال بدون صور».",
        },
        "claim_photos_received": {
            "en": "Received {count} photo(s). Send more, or choose “Submit the claim”.",
            "ar": "استلمت {count} صورة. أرسل المزيد أو اختر «إرسال المطالبة».",
        },
        "claim_photos_attached": {"en": ", with {count} photo(s)", "ar": "، مع {count} صورة"},
        "claim_submit_no_photos": {"en": "Submit without photos", "ar": "إرسال بدون صور"},
        "claim_submit": {"en": "Submit the claim", "ar": "إرسال المطالبة"},
        "claim_opened": {
            "en": "Your warranty claim {ticket} is open: {component} on your {vehicle}{photos}.\n"
            "Next step: a warranty advisor reviews it and calls you by {deadline} to arrange the inspection at "
            "the branch. Covered repairs cost you nothing. If the car is not safe to drive, please do not drive it.",
            "ar": "تم فتح مطالبة الضمان {ticket}: {component} في سيارتك {vehicle}{photos}.\n"
            "الخطوة التالية: يراجعها مستشار الضمان ويتصل بك في موعد أقصاه {deadline} لترتيب الفحص في الفرع. "
            "الإصلاحات المشمولة بالضمان لا تكلفك شيئاً. إذا لم تكن السيارة آمنة للقيادة فلا تقدها من فضلك.",
        },
        "claim_refused_date": {
            "en": "I am sorry, the {tier} on your {vehicle} ended on {end}, so this repair can no longer be "
            "covered by the warranty. We can still fix it for you as a paid repair.",
            "ar": "نأسف، انتهت {tier} لسيارتك {vehicle} بتاريخ {end}، لذلك لا يمكن تغطية هذا الإصلاح بالضمان. "
            "ما زال بإمكاننا إصلاحها لك كإصلاح مدفوع.",
        },
        "claim_refused_km": {
            "en": "I am sorry, the {tier} on your {vehicle} ended when the odometer passed {limit} km (the last "
            "reading is {km} km), so this repair can no longer be covered by the warranty. We can still fix it "
            "for you as a paid repair.",
            "ar": "نأسف، انتهت {tier} لسيارتك {vehicle} عندما تجاوز العداد {limit} كم (آخر قراءة {km} كم)، لذلك لا "
            "يمكن تغطية هذا الإصلاح بالضمان. ما زال بإمكاننا إصلاحها لك كإصلاح مدفوع.",
        },
        "claim_refused_excluded": {
            "en": "I am sorry, your {tier} does not cover this part ({component}), because {reason}. We can fix "
            "it for you as a paid repair.",
            "ar": "نأسف، لا تشمل {tier} هذا الجزء ({component})، {reason}. يمكننا إصلاحه لك كإصلاح مدفوع.",
        },
        "claim_refused_tier": {
            "en": "I am sorry, this part ({component}) is not part of your {tier}, so it cannot be claimed under "
            "the warranty. We can fix it for you as a paid repair.",
            "ar": "نأسف، {component} ليس ضمن {tier}، لذلك لا يمكن المطالبة به ضمن الضمان. يمكننا إصلاحه لك "
            "كإصلاح مدفوع.",
        },
        "claim_refused_none": {
            "en": "I am sorry, I could not find a warranty with us on your {vehicle}, so I cannot open a claim. "
            "We can fix it for you as a paid repair.",
            "ar": "نأسف، لم أجد ضماناً لدينا على سيارتك {vehicle}، لذلك لا يمكنني فتح مطالبة. يمكننا إصلاحها "
            "لك كإصلاح مدفوع.",
        },
    }
)


# --- the warranty of a vehicle ------------------------------------------------------------------------------


@dataclass
class Cover:
    vehicle: Vehicle
    warranty: Warranty | None
    reading_km: int | None
    reading_date: date | None
    ended: str | None  # None (active), "date" or "km"; "none" when there is no warranty

    @property
    def active(self) -> bool:
        return self.warranty is not None and self.ended is None


def cover_of(turn: Turn, vehicle: Vehicle) -> Cover:
    """The vehicle's warranty that applies today (else its latest), its latest odometer reading, and
    whether the cover has ended by date or by km."""
    today = turn.local_now.date()
    warranties = list(
        turn.session.scalars(select(Warranty).where(Warranty.vehicle_id == vehicle.id).order_by(Warranty.end_date))
    )
    current = [w for w in warranties if w.start_date <= today <= w.end_date]
    warranty = current[-1] if current else (warranties[-1] if warranties else None)
    reading = turn.session.scalar(
        select(MileageReading)
        .where(MileageReading.vehicle_id == vehicle.id)
        .order_by(MileageReading.recorded_at.desc(), MileageReading.id.desc())
        .limit(1)
    )
    km = reading.reading_km if reading else None
    read_on = reading.recorded_at.astimezone(turn.tz).date() if reading else None
    if warranty is None:
        return Cover(vehicle, None, km, read_on, "none")
    ended = None
    if warranty.end_date < today:
        ended = "date"
    elif km is not None and km > warranty.mileage_limit_km:
        ended = "km"
    return Cover(vehicle, warranty, km, read_on, ended)


def component_label(turn: Turn, code: str) -> str:
    if code in COMPONENTS:
        return turn.t(f"warranty_component_{code}")
    return code.removeprefix("other:").strip().replace("_", " ")


def _words_match(text: str) -> str | None:
    said = f" {normalise_digits(text).lower()} "
    for code, words in _COMPONENT_WORDS:
        if any(re.search(rf"(?<![\w/]){re.escape(word)}(?![\w/])", said) for word in words):
            return code
    return None


def component_in(turn: Turn) -> str | None:
    """The component the message names: the NLU's `component` entity (its words refine it: "brake pads"
    are not the brake system), else words of the message."""
    for entity in turn.parse.entities:
        if entity.name != "component":
            continue
        code = _words_match(entity.text)
        if code is None and entity.value in COMPONENTS:
            code = entity.value
        if code is not None:
            return code
    return _words_match(turn.message.text or "")


def _reason(turn: Turn, code: str) -> str:
    if code in _WEAR:
        return turn.t("warranty_why_wear")
    if code in _BODY:
        return turn.t("warranty_why_body")
    if code == "accident_damage":
        return turn.t("warranty_why_accident")
    return turn.t("warranty_why_terms")


def _tiers(turn: Turn) -> list[WarrantyTier]:
    return list(turn.session.scalars(select(WarrantyTier).order_by(WarrantyTier.rank)))


def _tier_name(turn: Turn, tier: WarrantyTier) -> str:
    return tier.name_ar if turn.language == "ar" else tier.name_en


def _tier_description(turn: Turn, tier: WarrantyTier) -> str:
    return tier.description_ar if turn.language == "ar" else tier.description_en


def _price(value) -> str:
    return f"{value:,.0f}"


def _list(turn: Turn, codes: list[str]) -> str:
    return ("، " if turn.language == "ar" else ", ").join(component_label(turn, c) for c in codes)


def _better_tier(turn: Turn, cover: Cover, code: str) -> WarrantyTier | None:
    rank = cover.warranty.tier.rank if cover.warranty else 0
    return next((t for t in _tiers(turn) if t.rank > rank and code in t.covered_components), None)


# --- warranty_coverage ----------------------------------------------------------------------------------------


def _terms_text(turn: Turn, cover: Cover) -> list[str]:
    vehicle = vehicle_label(turn, cover.vehicle)
    warranty = cover.warranty
    if warranty is None:
        lines = [turn.t("warranty_none", vehicle=vehicle), turn.t("warranty_new_cover_intro")]
        lines += [
            turn.t("warranty_tier_line", tier=_tier_name(turn, t), description=_tier_description(turn, t),
                   price=_price(t.price_aed))
            for t in _tiers(turn)
        ]
        return lines
    tier = _tier_name(turn, warranty.tier)
    common = dict(vehicle=vehicle, tier=tier, contract=warranty.contract_number, end=fmt_date(turn, warranty.end_date),
                  limit=fmt_km(warranty.mileage_limit_km))
    if cover.ended == "date":
        lines = [turn.t("warranty_ended_date", **common)]
    elif cover.ended == "km":
        lines = [turn.t("warranty_ended_km", **common, km=fmt_km(cover.reading_km or 0))]
    else:
        days = (warranty.end_date - turn.local_now.date()).days
        if cover.reading_km is not None:
            km_left = fmt_km(warranty.mileage_limit_km - cover.reading_km)
            reading = turn.t("warranty_reading", km=fmt_km(cover.reading_km), date=fmt_date(turn, cover.reading_date))
        else:
            km_left, reading = "?", ""
        lines = [turn.t("warranty_active", **common, days=days, km_left=km_left, reading=reading)]
    lines.append(turn.t("warranty_covered_list", items=_list(turn, list(warranty.covered_components))))
    lines.append(turn.t("warranty_excluded_list", items=_list(turn, list(warranty.excluded_components))))
    return lines


def _growth_text(turn: Turn, cover: Cover) -> list[str]:
    """How to extend or upgrade the cover (or take new cover when it ended)."""
    warranty = cover.warranty
    if warranty is None:
        return []
    if cover.ended is not None:
        lines = [turn.t("warranty_new_cover_intro")]
        lines += [
            turn.t("warranty_tier_line", tier=_tier_name(turn, t), description=_tier_description(turn, t),
                   price=_price(t.price_aed))
            for t in _tiers(turn)
        ]
        return lines
    lines = [
        turn.t("warranty_upgrade_line", tier=_tier_name(turn, t), description=_tier_description(turn, t),
               price=_price(t.price_aed))
        for t in _tiers(turn)
        if t.rank > warranty.tier.rank
    ]
    lines.append(turn.t("warranty_extend_line", tier=_tier_name(turn, warranty.tier),
                        price=_price(warranty.tier.price_aed)))
    return lines


def _component_text(turn: Turn, cover: Cover, code: str) -> list[str]:
    vehicle = vehicle_label(turn, cover.vehicle)
    label = component_label(turn, code)
    warranty = cover.warranty
    if warranty is None:
        return [turn.t("warranty_not_covered_none", component=label, vehicle=vehicle)]
    if cover.ended is not None:
        return [turn.t("warranty_not_covered_ended", component=label, vehicle=vehicle)]
    tier = _tier_name(turn, warranty.tier)
    if code in warranty.excluded_components:
        return [turn.t("warranty_not_covered_excluded", component=label, tier=tier, vehicle=vehicle,
                       reason=_reason(turn, code))]
    if code in warranty.covered_components:
        return [turn.t("warranty_is_covered", component=label, tier=tier, vehicle=vehicle,
                       end=fmt_date(turn, warranty.end_date), limit=fmt_km(warranty.mileage_limit_km))]
    better = _better_tier(turn, cover, code)
    if better is None:
        return [turn.t("warranty_unknown_component", component=label, tier=tier, vehicle=vehicle)]
    return [
        turn.t("warranty_not_covered_tier", component=label, tier=tier, vehicle=vehicle),
        turn.t("warranty_better_tier", tier=_tier_name(turn, better), price=_price(better.price_aed)),
    ]


def _coverage_answer(turn: Turn, vehicle: Vehicle, code: str | None) -> Reply:
    cover = cover_of(turn, vehicle)
    if code is not None:
        lines = _component_text(turn, cover, code)
        covered = cover.active and code in cover.warranty.covered_components  # type: ignore[union-attr]
    else:
        lines = _terms_text(turn, cover)
        covered = cover.active
    if code is None:
        lines += _growth_text(turn, cover)
    options = []
    if covered:
        options.append(turn.option("intent:warranty_claim", "warranty_make_claim"))
    elif code is not None:
        options.append(turn.intent_option("book_service", "warranty_book_paid", vehicle=vehicle.id))
    options.append(turn.option("advisor", "warranty_ask_advisor"))
    reply = turn.ask("warranty_coverage", "next", "warranty_choose_vehicle", options)
    turn.remember(vehicle_id=vehicle.id)
    reply.text = "\n".join(lines)
    return reply


@intent("warranty_coverage")
def warranty_coverage(turn: Turn) -> Reply:
    if turn.customer is None:
        return general.need_customer(turn)
    vehicles = turn.vehicles()
    if not vehicles:
        return turn.reply("no_vehicles")
    code = component_in(turn)
    vehicle = vehicles[0] if len(vehicles) == 1 else vehicle_named(turn, vehicles)
    if vehicle is None:
        turn.data = {"component": code}
        return turn.ask("warranty_coverage", "vehicle", "warranty_choose_vehicle", vehicle_options(turn, vehicles))
    return _coverage_answer(turn, vehicle, code)


@step("warranty_coverage", "vehicle", keeps=("warranty_coverage", "warranty_claim"))
def warranty_coverage_vehicle(turn: Turn) -> Reply:
    vehicle = vehicle_chosen(turn)
    if vehicle is None:
        return turn.ask("warranty_coverage", "vehicle", "cases_choose_vehicle_again",
                        vehicle_options(turn, turn.vehicles()))
    return _coverage_answer(turn, vehicle, turn.data.get("component") or component_in(turn))


@step("warranty_coverage", "next")
def warranty_coverage_next(turn: Turn) -> Reply | list[Reply]:
    vehicles = turn.vehicles()
    remembered = next((v for v in vehicles if v.id == turn.data.get("vehicle_id")), None)
    if turn.selected is not None and turn.selected.id == "advisor" and remembered is not None:
        return _advisor_request(turn, remembered)
    if turn.selected is None and turn.parse.intent == "warranty_coverage" and remembered is not None:
        # A follow-up question ("and the turbo?") about the same car, unless another car is named.
        return _coverage_answer(turn, vehicle_named(turn, vehicles) or remembered, component_in(turn))
    return dispatch_elsewhere(turn)


def _advisor_request(turn: Turn, vehicle: Vehicle) -> Reply:
    assert turn.customer is not None
    cover = cover_of(turn, vehicle)
    turn.finish()
    details = {
        "topic": "warranty_extension_or_upgrade",
        "vehicle": f"{vehicle.make} {vehicle.model} {vehicle.year}",
        "contract": cover.warranty.contract_number if cover.warranty else None,
        "tier": cover.warranty.tier.code if cover.warranty else None,
        "ends_on": cover.warranty.end_date.isoformat() if cover.warranty else None,
        "ended": cover.ended,
    }
    lead = Lead(kind="callback", customer_id=turn.customer.id, channel_identity_id=turn.identity.id,
                vehicle_id=vehicle.id, details=details, status="new", created_at=turn.now)
    turn.session.add(lead)
    turn.session.flush()
    turn.alert_staff("lead", f"alert:lead:{lead.id}", {"lead_id": lead.id, "kind": "callback", **details},
                     recipient="warranty-desk")
    log.info("warranty_advisor_requested", lead_id=lead.id)
    return turn.reply("warranty_advisor_requested", vehicle=vehicle_label(turn, vehicle))


# --- warranty_claim -----------------------------------------------------------------------------------------


def _media(turn: Turn) -> list[str]:
    return [m.url for m in turn.message.media]


def _refuse(turn: Turn, key: str, **values: object) -> Reply:
    """A polite no, with a paid repair (the booking flow) or a person instead."""
    turn.finish()
    options = [
        turn.option("intent:book_service", "warranty_book_paid"),
        turn.option("intent:human_agent", "warranty_talk_person"),
    ]
    turn.offer(options)
    log.info("claim_refused", reason=key)
    return turn.reply(key, options, **values)


@intent("warranty_claim")
def warranty_claim(turn: Turn) -> Reply:
    if turn.customer is None:
        return general.need_customer(turn)
    vehicles = turn.vehicles()
    if not vehicles:
        return turn.reply("no_vehicles")
    turn.data = {"component": component_in(turn), "photos": _media(turn)}
    vehicle = vehicles[0] if len(vehicles) == 1 else vehicle_named(turn, vehicles)
    if vehicle is None:
        return turn.ask("warranty_claim", "vehicle", "claim_choose_vehicle", vehicle_options(turn, vehicles))
    return _claim_vehicle(turn, vehicle)


@step("warranty_claim", "vehicle", keeps=("warranty_coverage", "warranty_claim"))
def warranty_claim_vehicle(turn: Turn) -> Reply:
    vehicle = vehicle_chosen(turn)
    turn.remember(photos=turn.data.get("photos", []) + _media(turn))
    if vehicle is None:
        return turn.ask("warranty_claim", "vehicle", "cases_choose_vehicle_again",
                        vehicle_options(turn, turn.vehicles()))
    if turn.data.get("component") is None:
        turn.remember(component=component_in(turn))
    return _claim_vehicle(turn, vehicle)


def _claim_vehicle(turn: Turn, vehicle: Vehicle) -> Reply:
    cover = cover_of(turn, vehicle)
    label = vehicle_label(turn, vehicle)
    if cover.warranty is None:
        return _refuse(turn, "claim_refused_none", vehicle=label)
    tier = _tier_name(turn, cover.warranty.tier)
    if cover.ended == "date":
        return _refuse(turn, "claim_refused_date", vehicle=label, tier=tier, end=fmt_date(turn, cover.warranty.end_date))
    if cover.ended == "km":
        return _refuse(turn, "claim_refused_km", vehicle=label, tier=tier,
                       limit=fmt_km(cover.warranty.mileage_limit_km), km=fmt_km(cover.reading_km or 0))
    turn.remember(vehicle_id=vehicle.id, warranty_id=cover.warranty.id)
    code = turn.data.get("component")
    if code is not None:
        return _claim_component(turn, cover, code)
    return _ask_component(turn, cover, "claim_ask_component")


def _component_options(turn: Turn, cover: Cover) -> list[Option]:
    assert cover.warranty is not None
    options = [Option(f"component:{c}", component_label(turn, c)) for c in cover.warranty.covered_components]
    return options + [turn.option("component:other", "warranty_component_other")]


def _ask_component(turn: Turn, cover: Cover, key: str) -> Reply:
    return turn.ask("warranty_claim", "component", key, _component_options(turn, cover))


def _claim_cover(turn: Turn) -> Cover | None:
    vehicle = next((v for v in turn.vehicles() if v.id == turn.data.get("vehicle_id")), None)
    return cover_of(turn, vehicle) if vehicle is not None else None


def _claim_component(turn: Turn, cover: Cover, code: str) -> Reply:
    assert cover.warranty is not None
    label = component_label(turn, code)
    tier = _tier_name(turn, cover.warranty.tier)
    if code in cover.warranty.excluded_components:
        return _refuse(turn, "claim_refused_excluded", component=label, tier=tier, reason=_reason(turn, code))
    if code in COMPONENTS and code not in cover.warranty.covered_components:
        return _refuse(turn, "claim_refused_tier", component=label, tier=tier)
    turn.remember(component=code)
    return turn.ask("warranty_claim", "description", "claim_ask_description", free_text=True)


@step("warranty_claim", "component", keeps=("warranty_coverage", "warranty_claim", "complaint", "roadside_assistance"))
def warranty_claim_component(turn: Turn) -> Reply:
    cover = _claim_cover(turn)
    if cover is None or cover.warranty is None:
        turn.finish()
        return general.flow_cancelled(turn)
    turn.remember(photos=turn.data.get("photos", []) + _media(turn))
    if turn.selected is not None and turn.selected.id == "component:other":
        return turn.ask("warranty_claim", "component_other", "claim_ask_component_other", free_text=True)
    if turn.selected is not None and turn.selected.id.startswith("component:"):
        return _claim_component(turn, cover, turn.selected.id.removeprefix("component:"))
    code = component_in(turn)
    if code is None:
        return _ask_component(turn, cover, "claim_ask_component_again")
    return _claim_component(turn, cover, code)


@step("warranty_claim", "component_other")
def warranty_claim_component_other(turn: Turn) -> Reply:
    cover = _claim_cover(turn)
    if cover is None or cover.warranty is None:
        turn.finish()
        return general.flow_cancelled(turn)
    said = " ".join((turn.message.text or "").split())
    words = len(re.findall(r"\w+", said))
    if words == 0:
        return turn.ask("warranty_claim", "component_other", "claim_ask_component_other", free_text=True)
    code = component_in(turn)
    # An excluded part stays excluded in other words; a part named in a word or two is that part; anything
    # longer ("the sunroof motor") is the customer's own description, for the warranty advisor to judge.
    if code is not None and (code in cover.warranty.excluded_components or words <= 2):
        return _claim_component(turn, cover, code)
    return _claim_component(turn, cover, f"other: {said}"[:64])


@step("warranty_claim", "description", keeps=("roadside_assistance",))
def warranty_claim_description(turn: Turn) -> Reply:
    said = (turn.message.text or "").strip()
    photos = turn.data.get("photos", []) + _media(turn)
    turn.remember(photos=photos)
    if len(re.findall(r"\w+", said)) < 2:
        return turn.ask("warranty_claim", "description", "claim_ask_description_again", free_text=True)
    turn.remember(description=said[:5000])
    if photos:
        return turn.ask("warranty_claim", "photos", "claim_photos_received",
                        [turn.option("done", "claim_submit")], count=len(photos))
    return turn.ask("warranty_claim", "photos", "claim_ask_photos", [turn.option("done", "claim_submit_no_photos")])


@step("warranty_claim", "photos", keeps=("warranty_claim", "warranty_coverage", "affirm", "deny"))
def warranty_claim_photos(turn: Turn) -> Reply:
    if turn.message.media:
        photos = turn.data.get("photos", []) + _media(turn)
        turn.remember(photos=photos)
        return turn.ask("warranty_claim", "photos", "claim_photos_received",
                        [turn.option("done", "claim_submit")], count=len(photos))
    return _open_claim(turn)


def _open_claim(turn: Turn) -> Reply:
    assert turn.customer is not None
    data = turn.data
    cover = _claim_cover(turn)
    if cover is None or cover.warranty is None or cover.warranty.id != data.get("warranty_id"):
        turn.finish()
        return general.flow_cancelled(turn)
    now = turn.now
    respond_by = same_day_deadline(turn)
    claim = WarrantyClaim(
        customer_id=turn.customer.id,
        vehicle_id=cover.vehicle.id,
        warranty_id=cover.warranty.id,
        component=data["component"],
        description=data["description"],
        photos=list(data.get("photos", [])),
        status="open",
        respond_by=respond_by,
        created_at=now,
        updated_at=now,
    )
    turn.session.add(claim)
    turn.session.flush()
    turn.finish()
    turn.alert_staff(
        "warranty_claim",
        f"alert:warranty_claim:{claim.id}",
        {
            "ticket": claim.ticket_id,
            "customer_id": turn.customer.id,
            "vehicle_id": cover.vehicle.id,
            "vehicle": f"{cover.vehicle.make} {cover.vehicle.model} {cover.vehicle.year}",
            "contract": cover.warranty.contract_number,
            "component": claim.component,
            "photos": len(claim.photos),
            "respond_by": respond_by.isoformat(),
            "urgent": True,
        },
        recipient="warranty-desk",
    )
    log.info("warranty_claim_opened", ticket=claim.ticket_id, photos=len(claim.photos))
    options = []
    if is_safety(claim.description):
        options = [turn.option("intent:roadside_assistance", "complaint_roadside")]
        turn.offer(options)
    return turn.reply(
        "claim_opened",
        options,
        ticket=claim.ticket_id,
        component=component_label(turn, claim.component),
        vehicle=vehicle_label(turn, cover.vehicle),
        photos=turn.t("claim_photos_attached", count=len(claim.photos)) if claim.photos else "",
        deadline=fmt_when(turn, respond_by),
    )
