"""Requests for staff: trade-in valuations and upgrade wishes, finance requests, parts orders (issue 4).

Each request becomes a `Lead` (kind from `LEAD_KINDS`) and a staff alert; an upgrade wish of a known
customer is also saved as an `UpgradeWish`, which the stock alerts match against new arrivals. Unknown
senders can leave every one of these requests (the lead then has no customer, only the channel identity)
and are never shown a vehicle or record; they pick nothing from a list, they describe their car.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from actions.registry import INTENTS, SWITCH_CONFIDENCE, intent, step
from actions.turn import Turn
from bot.messages import register
from bot.types import Option, Reply
from db.models import Branch, Lead, MileageReading, StockVehicle, UpgradeWish, Vehicle
from dealerbot.logging import get_logger
from bot.text import ascii_digits

log = get_logger("actions.leads")

register(
    {
        # --- shared: which car ------------------------------------------------------------------------
        "leads_ask_vehicle": {
            "en": "Which car is it about?",
            "ar": "عن أي سيارة تسأل؟",
        },
        "leads_vehicle_again": {
            "en": "Sorry, I did not catch which car. Please choose one of these:",
            "ar": "عذراً، لم أعرف أي سيارة تقصد. اختر إحدى هذه:",
        },
        "leads_vehicle_other": {"en": "Another car", "ar": "سيارة أخرى"},
        "leads_vehicle_none": {"en": "Another car / not about a car", "ar": "سيارة أخرى / ليس عن سيارة"},
        "leads_ask_vehicle_text": {
            "en": "Which car is it? Please write the make, model and year (e.g. Toyota Camry 2019).",
            "ar": "ما هي السيارة؟ اكتب الشركة المصنعة والطراز وسنة الصنع (مثلاً: تويوتا كامري 2019).",
        },
        "leads_vehicle_text_again": {
            "en": "Sorry, I need the car's make and model (and the year if you know it), e.g. Nissan Patrol 2018.",
            "ar": "عذراً، أحتاج الشركة المصنعة للسيارة وطرازها (وسنة الصنع إن عرفتها)، مثلاً: نيسان باترول 2018.",
        },
        "leads_yes": {"en": "Yes", "ar": "نعم"},
        "leads_no": {"en": "No, thanks", "ar": "لا، شكراً"},
        "leads_closing": {
            "en": "All right. Anything else I can help you with?",
            "ar": "حسناً. هل هناك شيء آخر أستطيع مساعدتك فيه؟",
        },
        # --- trade-in ---------------------------------------------------------------------------------
        "trade_ask_mode": {
            "en": "Happy to help. What would you like?",
            "ar": "بكل سرور. ماذا تود؟",
        },
        "trade_mode_again": {
            "en": "Please choose one of these:",
            "ar": "يرجى اختيار أحد هذه الخيارات:",
        },
        "trade_mode_valuation": {"en": "A valuation of my car", "ar": "تقييم سيارتي"},
        "trade_mode_upgrade": {
            "en": "Tell me when a car I want arrives",
            "ar": "أبلغوني عند وصول السيارة التي أريدها",
        },
        "trade_ask_mileage": {
            "en": "What is the current mileage (km) on the odometer?",
            "ar": "كم قراءة العداد الحالية (كم)؟",
        },
        "trade_mileage_again": {
            "en": "Sorry, I need the mileage as a number of kilometres, e.g. 85000 or 85k.",
            "ar": "عذراً، أحتاج قراءة العداد كرقم بالكيلومترات، مثلاً 85000 أو 85 ألف.",
        },
        "trade_mileage_lower": {
            "en": "That is lower than the last reading we have ({last} km). Please check the odometer and send "
            "the current reading.",
            "ar": "هذه القراءة أقل من آخر قراءة لدينا ({last} كم). يرجى التأكد من العداد وإرسال القراءة الحالية.",
        },
        "trade_mileage_last": {"en": "{km} km (last reading)", "ar": "{km} كم (آخر قراءة)"},
        "trade_ask_condition": {
            "en": "How would you describe its condition?",
            "ar": "كيف تصف حالتها؟",
        },
        "trade_condition_again": {
            "en": "Sorry, please pick the condition that fits best:",
            "ar": "عذراً، اختر الحالة الأقرب لسيارتك:",
        },
        "trade_condition_excellent": {"en": "Excellent, like new", "ar": "ممتازة، كالجديدة"},
        "trade_condition_good": {"en": "Good, normal wear", "ar": "جيدة، استهلاك عادي"},
        "trade_condition_fair": {"en": "Fair, some scratches or repairs", "ar": "مقبولة، بعض الخدوش أو الإصلاحات"},
        "trade_condition_needs_work": {
            "en": "Needs work (damage or faults)",
            "ar": "تحتاج إصلاحات (أضرار أو أعطال)",
        },
        "trade_valuation_done": {
            "en": "Thank you! I passed your valuation request to our sales team: {vehicle}, {km} km, condition: "
            "{condition}. A colleague will contact you within one working day with an offer based on current "
            "market prices; the final price is confirmed after a short inspection at a branch, at a time that "
            "suits you.",
            "ar": "شكراً لك! أرسلت طلب التقييم إلى فريق المبيعات: {vehicle}، {km} كم، الحالة: {condition}. "
            "سيتواصل معك أحد زملائنا خلال يوم عمل واحد بعرض مبني على أسعار السوق الحالية؛ ويتأكد السعر النهائي "
            "بعد فحص قصير في أحد الفروع في الوقت الذي يناسبك.",
        },
        "trade_offer_upgrade": {
            "en": "Would you also like me to tell you when a car you want arrives in our stock?",
            "ar": "هل تود أيضاً أن أبلغك عندما تصل إلى مخزوننا السيارة التي تريدها؟",
        },
        "trade_offer_valuation": {
            "en": "Would you also like a valuation of your current car, to put towards the next one?",
            "ar": "هل تود أيضاً تقييم سيارتك الحالية لاحتسابها في قيمة السيارة القادمة؟",
        },
        "trade_offer_again": {
            "en": "Please answer yes or no:",
            "ar": "يرجى الإجابة بنعم أو لا:",
        },
        "trade_ask_car": {
            "en": "Which car would you like next? Write the make and model, and the year if it matters "
            "(e.g. Toyota Land Cruiser 2022).",
            "ar": "ما السيارة التي تريدها؟ اكتب الشركة المصنعة والطراز، وسنة الصنع إن كانت تهمك "
            "(مثلاً: تويوتا لاند كروزر 2022).",
        },
        "trade_car_again": {
            "en": "Sorry, I did not recognise a make or model there. Please write e.g. \"Nissan Patrol 2022\", "
            "or choose:",
            "ar": "عذراً، لم أتعرف على شركة مصنعة أو طراز. اكتب مثلاً \"نيسان باترول 2022\"، أو اختر:",
        },
        "trade_car_any": {"en": "Any car within my budget", "ar": "أي سيارة ضمن ميزانيتي"},
        "trade_ask_budget": {
            "en": "What is your maximum budget in AED?",
            "ar": "ما أقصى ميزانية لديك بالدرهم؟",
        },
        "trade_budget_again": {
            "en": "Sorry, please write the budget as an amount in AED, e.g. 150000 or 150k, or choose:",
            "ar": "عذراً، اكتب الميزانية كمبلغ بالدرهم، مثلاً 150000 أو 150 ألف، أو اختر:",
        },
        "trade_budget_none": {"en": "No fixed budget", "ar": "لا توجد ميزانية محددة"},
        "trade_any_car": {"en": "any car", "ar": "أي سيارة"},
        "trade_from_year": {"en": "{year} or newer", "ar": "موديل {year} أو أحدث"},
        "trade_up_to": {"en": "up to AED {amount}", "ar": "حتى {amount} درهم"},
        "trade_wish_saved": {
            "en": "Done: I will let you know when {wish} arrives in our stock.",
            "ar": "تم: سأبلغك عندما تصل إلى مخزوننا {wish}.",
        },
        "trade_wish_lead": {
            "en": "Done: I passed your wish ({wish}) to our sales team; a colleague will contact you when a "
            "matching car arrives.",
            "ar": "تم: أرسلت طلبك ({wish}) إلى فريق المبيعات؛ سيتواصل معك أحد زملائنا عند وصول سيارة مطابقة.",
        },
        "trade_stock_now": {
            "en": "Good news, these match already:\n{cars}",
            "ar": "خبر سار، هذه السيارات مطابقة ومتوفرة الآن:\n{cars}",
        },
        "trade_stock_line": {
            "en": "- {make} {model} {year}, {km} km, AED {price}, at {branch}",
            "ar": "- {make} {model} {year}، {km} كم، {price} درهم، في {branch}",
        },
        # --- finance ----------------------------------------------------------------------------------
        "finance_ask_kind": {
            "en": "Sure. What is it about?",
            "ar": "بالتأكيد. بخصوص ماذا؟",
        },
        "finance_kind_again": {
            "en": "Please choose one of these:",
            "ar": "يرجى اختيار أحد هذه الخيارات:",
        },
        "finance_kind_refinance": {"en": "Refinancing or my car loan", "ar": "إعادة التمويل أو قرض السيارة"},
        "finance_kind_instalment_change": {"en": "Changing my instalments", "ar": "تعديل الأقساط"},
        "finance_kind_insurance": {"en": "Car insurance", "ar": "تأمين السيارة"},
        "finance_ask_details": {
            "en": "Please tell me briefly what you need, so the right colleague can prepare.",
            "ar": "أخبرني باختصار بما تحتاجه، ليستعد الزميل المختص.",
        },
        "finance_details_again": {
            "en": "Sorry, I need a few words about what you would like, e.g. \"move my instalment date to the "
            "5th\".",
            "ar": "عذراً، أحتاج بضع كلمات عما تريده، مثلاً \"تأجيل موعد القسط إلى يوم 5\".",
        },
        "finance_done": {
            "en": "Thank you! I passed your request ({kind}) to our finance team{vehicle}. A colleague will "
            "contact you within one working day.",
            "ar": "شكراً لك! أرسلت طلبك ({kind}) إلى فريق التمويل{vehicle}. سيتواصل معك أحد زملائنا خلال يوم عمل "
            "واحد.",
        },
        "finance_for_vehicle": {"en": ", for your {vehicle}", "ar": "، بخصوص سيارتك {vehicle}"},
        # --- parts ------------------------------------------------------------------------------------
        "parts_ask_part": {
            "en": "Which part do you need? Please describe it (e.g. front brake pads, left side mirror).",
            "ar": "ما القطعة التي تحتاجها؟ يرجى وصفها (مثلاً: فحمات الفرامل الأمامية، المرآة الجانبية اليسرى).",
        },
        "parts_part_again": {
            "en": "Sorry, I need the name of the part, e.g. \"rear wiper blade\" or \"air filter\".",
            "ar": "عذراً، أحتاج اسم القطعة، مثلاً \"مساحة الزجاج الخلفي\" أو \"فلتر الهواء\".",
        },
        "parts_ask_preference": {
            "en": "Would you like an original (OEM) part or an aftermarket one?",
            "ar": "هل تريد قطعة أصلية (وكالة) أم قطعة تجارية؟",
        },
        "parts_preference_again": {
            "en": "Sorry, please choose original (OEM), aftermarket, or either:",
            "ar": "عذراً، اختر: أصلية (وكالة)، أو تجارية، أو أيهما:",
        },
        "parts_preference_oem": {"en": "Original (OEM)", "ar": "أصلية (وكالة)"},
        "parts_preference_aftermarket": {"en": "Aftermarket", "ar": "تجارية"},
        "parts_preference_either": {"en": "Either, quote both", "ar": "أيهما، أرسلوا سعر الاثنين"},
        "parts_pref_in_text_oem": {"en": "original (OEM)", "ar": "أصلية (وكالة)"},
        "parts_pref_in_text_aftermarket": {"en": "aftermarket", "ar": "تجارية"},
        "parts_pref_in_text_either": {
            "en": "original or aftermarket, with both prices",
            "ar": "أصلية أو تجارية مع سعر الاثنين",
        },
        "parts_done": {
            "en": "Thank you! I passed your request to our parts desk: \"{part}\" for {vehicle}, {preference}. "
            "They will contact you within one working day with price and availability.",
            "ar": "شكراً لك! أرسلت طلبك إلى قسم قطع الغيار: \"{part}\" لسيارة {vehicle}، {preference}. سيتواصلون "
            "معك خلال يوم عمل واحد بالسعر والتوفر.",
        },
    }
)

# --- text helpers --------------------------------------------------------------------------------------

# Arabic prefixes glued to a word: "للباترول", "بالكامري", "والتيما".
_AR_PREFIX = r"(?:وال|بال|لل|ال|و|ب|ل)?"


def norm(text: str) -> str:
    """Lower-case text with Arabic letter variants folded and punctuation as spaces, for matching."""
    text = ascii_digits(text).lower()
    text = re.sub("[إأآٱ]", "ا", text).replace("ة", "ه").replace("ى", "ي")
    text = re.sub(r"[\u064B-\u0652\u0640]", "", text)
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def word_re(word: str) -> str:
    """A whole word or phrase (with Arabic prefixes); a trailing * allows any ending ("insur*")."""
    stem = word.endswith("*")
    return rf"(?<!\w){_AR_PREFIX}{re.escape(norm(word.rstrip('*')))}" + ("" if stem else r"(?!\w)")


def _has_any(said: str, words: Iterable[str]) -> bool:
    return any(re.search(word_re(w), said) for w in words)


def fold(text: str) -> str:
    """Lower-case text with Western digits and Arabic letter variants folded, punctuation kept."""
    text = ascii_digits(text).lower()
    return re.sub("[إأآٱ]", "ا", text).replace("ة", "ه").replace("ى", "ي")


_MULTIPLIERS = {"k": 1_000, "thousand": 1_000, "الف": 1_000, "الاف": 1_000, "m": 1_000_000,
                "million": 1_000_000, "مليون": 1_000_000}
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?:(k|thousand|m|million)(?![a-z])|(الف|الاف|مليون))?"
)


def parse_amount(text: str) -> int | None:
    """The first amount in text: "85000", "85,000 km", "85k", "٨٥ ألف", "1.2 million" → int."""
    said = ascii_digits(text)
    said = re.sub("[إأآ]", "ا", said.lower())
    match = _NUMBER.search(said)
    if match is None:
        return None
    number = Decimal(match.group(1).replace(",", ""))
    unit = match.group(2) or match.group(3)
    if unit:
        number *= _MULTIPLIERS[unit]
    return int(number)


def _year_in(text: str) -> int | None:
    match = re.search(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)", ascii_digits(text))
    return int(match.group(1)) if match else None


def _group(n: int) -> str:
    return f"{n:,}"


# --- cars: which make and model a message names ------------------------------------------------------

# make → (aliases, {model: aliases}); the database's makes and models are added at run time.
CARS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "Toyota": (("toyota", "تويوتا"), {
        "Land Cruiser": ("land cruiser", "landcruiser", "لاند كروزر", "لاندكروزر", "لاند كروزار"),
        "Prado": ("prado", "برادو"),
        "Camry": ("camry", "كامري"),
        "Corolla": ("corolla", "كورولا"),
        "Hilux": ("hilux", "هايلكس", "هايلوكس"),
        "Fortuner": ("fortuner", "فورتشنر", "فورتونر"),
        "Yaris": ("yaris", "يارس"),
        "RAV4": ("rav4", "rav 4", "راف فور"),
    }),
    "Nissan": (("nissan", "نيسان"), {
        "Patrol": ("patrol", "باترول"),
        "Altima": ("altima", "التيما", "ألتيما"),
        "Sunny": ("sunny", "صني"),
        "X-Trail": ("x trail", "xtrail", "اكس تريل", "إكس تريل"),
        "Pathfinder": ("pathfinder", "باثفايندر"),
    }),
    "Lexus": (("lexus", "لكزس", "لكسس"), {
        "LX": ("lx", "lx570", "lx600", "ال اكس"),
        "ES": ("es", "es350", "اي اس"),
        "RX": ("rx", "rx350", "ار اكس"),
    }),
    "Mitsubishi": (("mitsubishi", "ميتسوبيشي", "متسوبيشي"), {
        "Pajero": ("pajero", "باجيرو", "باجيرو", "بيجيرو"),
        "Lancer": ("lancer", "لانسر"),
    }),
    "Hyundai": (("hyundai", "هيونداي", "هونداي"), {
        "Tucson": ("tucson", "توسان"),
        "Elantra": ("elantra", "النترا", "إلنترا"),
        "Sonata": ("sonata", "سوناتا"),
        "Accent": ("accent", "اكسنت", "أكسنت"),
    }),
    "Kia": (("kia", "كيا"), {
        "Sportage": ("sportage", "سبورتاج"),
        "Sorento": ("sorento", "سورينتو"),
    }),
    "Honda": (("honda", "هوندا"), {
        "Accord": ("accord", "اكورد", "أكورد"),
        "Civic": ("civic", "سيفيك"),
    }),
    "Ford": (("ford", "فورد"), {
        "Explorer": ("explorer", "اكسبلورر", "إكسبلورر"),
        "Edge": ("edge", "ايدج"),
    }),
    "Chevrolet": (("chevrolet", "chevy", "شفروليه", "شيفروليه", "شفرليه"), {
        "Tahoe": ("tahoe", "تاهو"),
        "Silverado": ("silverado", "سلفرادو", "سيلفرادو"),
    }),
    "GMC": (("gmc", "جي ام سي", "جمس"), {
        "Yukon": ("yukon", "يوكن"),
    }),
    "Mercedes-Benz": (("mercedes benz", "mercedes", "benz", "مرسيدس", "بنز"), {
        "C-Class": ("c class", "c200", "c300", "سي كلاس"),
        "E-Class": ("e class", "e200", "e300", "اي كلاس"),
        "GLE": ("gle", "جي ال اي"),
    }),
    "BMW": (("bmw", "بي ام دبليو", "بي ام"), {
        "3 Series": ("3 series", "الفئة الثالثة"),
        "X5": ("x5", "اكس 5", "اكس فايف"),
    }),
    "Land Rover": (("land rover", "لاند روفر"), {
        "Range Rover": ("range rover", "رنج روفر", "رينج روفر", "رنج"),
        "Defender": ("defender", "ديفندر"),
    }),
    "Audi": (("audi", "اودي", "أودي"), {}),
    "Porsche": (("porsche", "بورش"), {}),
    "Volkswagen": (("volkswagen", "vw", "فولكس واجن"), {}),
    "Infiniti": (("infiniti", "انفينيتي"), {}),
    "Jeep": (("jeep", "جيب"), {}),
    "Dodge": (("dodge", "دودج"), {}),
    "Mazda": (("mazda", "مازدا"), {}),
    "Renault": (("renault", "رينو"), {}),
    "Peugeot": (("peugeot", "بيجو"), {}),
    "Cadillac": (("cadillac", "كاديلاك"), {}),
    "Lincoln": (("lincoln", "لينكولن"), {}),
    "Genesis": (("genesis", "جينيسيس"), {}),
    "Tesla": (("tesla", "تسلا"), {}),
    "MG": (("mg", "ام جي"), {}),
    "Changan": (("changan", "شانجان"), {}),
    "Geely": (("geely", "جيلي"), {}),
    "Suzuki": (("suzuki", "سوزوكي"), {}),
    "Volvo": (("volvo", "فولفو"), {}),
}


_Alias = tuple[re.Pattern[str], str, str | None, int]


def _alias(alias: str, make: str, model: str | None) -> _Alias:
    return re.compile(rf"(?<!\w){_AR_PREFIX}{re.escape(alias)}(?!\w)"), make, model, len(alias)


@functools.cache
def _static_aliases() -> tuple[dict[tuple[str, str, str | None], _Alias], ...]:
    entries: dict[tuple[str, str, str | None], _Alias] = {}
    for make, (make_aliases, models) in CARS.items():
        for alias in (*make_aliases, make):
            entries.setdefault((norm(alias), make, None), _alias(norm(alias), make, None))
        for model, aliases in models.items():
            for alias in (*aliases, model):
                entries.setdefault((norm(alias), make, model), _alias(norm(alias), make, model))
    return (entries,)


def _alias_table(session: Any) -> list[_Alias]:
    """(pattern, make, model or None, alias length) for the catalogue and the database, longest first."""
    entries = dict(_static_aliases()[0])
    known = set()
    for model_class in (Vehicle, StockVehicle):
        known.update(session.execute(select(model_class.make, model_class.model).distinct()).all())
    for make, model in known:
        for alias, model_or_none in ((norm(make), None), (norm(model), model)):
            if alias and (alias, make, model_or_none) not in entries:
                entries[(alias, make, model_or_none)] = _alias(alias, make, model_or_none)
    return sorted(entries.values(), key=lambda row: -row[3])


def car_in_text(session: Any, text: str) -> tuple[str | None, str | None]:
    """The make and model a message names, (None, None) when it names none."""
    said = norm(text)
    make_only: str | None = None
    for pattern, make, model, _ in _alias_table(session):
        if pattern.search(said):
            if model is not None:
                return make, model
            make_only = make_only or make
    return make_only, None


def _strip_cars(session: Any, said: str) -> str:
    for pattern, *_ in _alias_table(session):
        said = pattern.sub(" ", said)
    return said


def vehicle_label(vehicle: Vehicle) -> str:
    label = f"{vehicle.make} {vehicle.model} {vehicle.year}"
    return f"{label} ({vehicle.plate})" if vehicle.plate else label


def _car_description(make: str | None, model: str | None, year: int | None) -> str:
    return " ".join(str(p) for p in (make, model, year) if p)


def own_vehicle_in_text(turn: Turn) -> Vehicle | None:
    """The customer's own vehicle the message names by VIN, plate, or a model only one of them is."""
    vehicles = turn.vehicles()
    if not vehicles:
        return None
    for vin in turn.parse.values("vin"):
        found = [v for v in vehicles if v.vin.upper() == vin.strip().upper()]
        if found:
            return found[0]
    said = norm(turn.message.text or "")
    plates = [norm(p) for p in turn.parse.values("plate")]
    for v in vehicles:
        if v.plate and (norm(v.plate) in plates or re.search(rf"(?<!\w){re.escape(norm(v.plate))}(?!\w)", said)):
            return v
    make, model = car_in_text(turn.session, turn.message.text or "")
    if model:
        found = [v for v in vehicles if v.model == model and v.make == make]
    elif make:
        found = [v for v in vehicles if v.make == make]
    else:
        found = []
    return found[0] if len(found) == 1 else None


def _own_vehicle(turn: Turn, vehicle_id: int) -> Vehicle | None:
    return next((v for v in turn.vehicles() if v.id == vehicle_id), None)


def _latest_km(turn: Turn, vehicle_id: int) -> int | None:
    return turn.session.scalar(
        select(MileageReading.reading_km)
        .where(MileageReading.vehicle_id == vehicle_id)
        .order_by(MileageReading.recorded_at.desc())
        .limit(1)
    )


def _valid_description(text: str) -> bool:
    said = norm(text)
    return 2 <= len(said) <= 500 and re.search(r"[^\W\d_]{2,}", said) is not None


# --- leads ------------------------------------------------------------------------------------------------

_TEAMS = {"trade_in_valuation": "sales", "upgrade": "sales", "refinance": "finance",
          "instalment_change": "finance", "insurance": "finance", "parts_request": "parts-desk"}


def create_lead(turn: Turn, kind: str, vehicle_id: int | None, details: dict[str, Any]) -> Lead:
    """A lead for staff (customer or, for an unknown sender, only the channel identity) and its alert."""
    lead = Lead(
        kind=kind,
        customer_id=turn.customer.id if turn.customer else None,
        channel_identity_id=turn.identity.id,
        vehicle_id=vehicle_id,
        details={**details, "language": turn.language, "channel": turn.identity.channel},
        status="new",
        created_at=turn.now,
    )
    turn.session.add(lead)
    turn.session.flush()
    turn.alert_staff(
        "lead_new",
        f"lead:{lead.id}",
        {
            "lead_id": lead.id,
            "kind": kind,
            "customer_id": lead.customer_id,
            "channel_identity_id": lead.channel_identity_id,
            "vehicle_id": vehicle_id,
            "details": lead.details,
        },
        recipient=_TEAMS.get(kind, "sales"),
    )
    log.info("lead_created", kind=kind, lead_id=lead.id, known_customer=turn.customer is not None)
    return lead


def emergency(turn: Turn) -> Reply | list[Reply] | None:
    """A breakdown reported in the middle of a free-text step: the emergency wins over the open question."""
    if turn.parse.intent == "roadside_assistance" and turn.parse.confidence >= SWITCH_CONFIDENCE and turn.flow != "roadside":
        log.info("flow_left_for_emergency", flow=turn.flow, step=turn.step)
        turn.finish()
        return INTENTS["roadside_assistance"](turn)
    return None


# --- the shared "which car" steps ----------------------------------------------------------------------

_CONTINUE: dict[str, Callable[[Turn], Reply]] = {}


def _ask_vehicle(turn: Turn, flow: str, key: str = "leads_ask_vehicle") -> Reply:
    vehicles = turn.vehicles()
    if not vehicles:
        text_key = "leads_ask_vehicle_text" if key == "leads_ask_vehicle" else "leads_vehicle_text_again"
        return turn.ask(flow, "vehicle_text", text_key, free_text=True)
    other = "leads_vehicle_none" if flow == "finance" else "leads_vehicle_other"
    options = [Option(f"vehicle:{v.id}", vehicle_label(v)) for v in vehicles]
    options.append(turn.option("vehicle:other", other))
    return turn.ask(flow, "vehicle", key, options)


def _vehicle_step(turn: Turn) -> Reply:
    flow = turn.flow or ""
    chosen = turn.selected
    if chosen is not None and chosen.id == "vehicle:other":
        if flow == "finance":
            turn.remember(vehicle_id=None, vehicle=None)
            return _CONTINUE[flow](turn)
        return turn.ask(flow, "vehicle_text", "leads_ask_vehicle_text", free_text=True)
    vehicle = None
    if chosen is not None and chosen.id.startswith("vehicle:") and chosen.id.removeprefix("vehicle:").isdigit():
        vehicle = _own_vehicle(turn, int(chosen.id.removeprefix("vehicle:")))
    if vehicle is None and chosen is None:
        vehicle = own_vehicle_in_text(turn)
    if vehicle is not None:
        turn.remember(vehicle_id=vehicle.id, vehicle=vehicle_label(vehicle))
        return _CONTINUE[flow](turn)
    if chosen is None and flow != "finance":
        make, model = car_in_text(turn.session, turn.message.text or "")
        if make:
            turn.remember(vehicle_id=None, vehicle=(turn.message.text or "").strip()[:200])
            return _CONTINUE[flow](turn)
    return _ask_vehicle(turn, flow, "leads_vehicle_again")


def _vehicle_text_step(turn: Turn) -> Reply | list[Reply]:
    if (urgent := emergency(turn)) is not None:
        return urgent
    said = (turn.message.text or "").strip()
    make, _ = car_in_text(turn.session, said)
    if make or (_valid_description(said) and len(norm(said).split()) >= 2):
        turn.remember(vehicle_id=None, vehicle=said[:200])
        return _CONTINUE[turn.flow or ""](turn)
    return turn.ask(turn.flow or "", "vehicle_text", "leads_vehicle_text_again", free_text=True)


for _flow in ("trade_in", "finance", "parts_order"):
    step(_flow, "vehicle")(_vehicle_step)
    step(_flow, "vehicle_text")(_vehicle_text_step)


def _prefill_vehicle(turn: Turn, describe_other: bool = True) -> None:
    """Take the car from the first message: the customer's own (VIN, plate, model) or a described one."""
    own = own_vehicle_in_text(turn)
    if own is not None:
        turn.remember(vehicle_id=own.id, vehicle=vehicle_label(own))
        return
    if not describe_other:
        return
    make, model = car_in_text(turn.session, turn.message.text or "")
    if make and not (model is None and any(v.make == make for v in turn.vehicles())):
        turn.remember(vehicle_id=None, vehicle=_car_description(make, model, _year_in(turn.message.text or "")))


def _yes_no(turn: Turn) -> list[Option]:
    return [turn.option("yes", "leads_yes"), turn.option("no", "leads_no")]


# --- trade_in --------------------------------------------------------------------------------------------

_UPGRADE_HINTS = (
    "let me know", "notify*", "alert*", "waitlist", "wait list", "waiting list", "arriv*", "in stock",
    "into stock", "coming in", "upgrad*", "looking for", "swap*", "newer", "next car", "اعلمني", "علموني",
    "بلغني", "بلغوني", "خبروني", "خبرني", "نبهني", "نبهوني", "وصلكم", "يوصلكم", "توصل*", "يوصل*", "وصول",
    "ترقيه", "ابدل*", "احدث", "تبديل", "اغير سيارتي",
)
_VALUATION_HINTS = (
    "worth", "value", "valu*", "evaluat*", "apprais*", "sell*", "buy my", "offer", "how much", "price for my",
    "cash", "part exchange", "trade in", "tradein", "trading in", "قيمه", "تقييم*", "تثمين", "ثمن", "ابيع*",
    "بيع*", "تشترون", "تشتري", "كم تعطوني", "كم تدفعون", "سعر سيارتي", "كم تسوي", "كم تسوى",
)
_CONDITIONS = ("excellent", "good", "fair", "needs_work")
_CONDITION_WORDS = {
    "excellent": ("excellent", "perfect", "like new", "mint", "brand new", "ممتاز", "ممتازه", "كالجديد", "نظيف جدا",
                  "وكاله"),
    "needs_work": ("needs work", "damage", "damaged", "accident", "broken", "fault", "bad", "poor", "not working",
                   "يحتاج", "تحتاج", "حادث", "خربان", "عطل", "سيئ", "سيئه", "تعبانه", "متضرر"),
    "fair": ("fair", "average", "ok", "okay", "scratch", "scratches", "dent", "متوسط", "متوسطه", "مقبول",
             "مقبوله", "خدوش", "خدش"),
    "good": ("good", "fine", "great", "very good", "normal", "جيد", "جيده", "زين", "زينه", "كويس", "كويسه",
             "نظيف", "نظيفه", "عادي"),
}
_BUDGET_CUE = re.compile(
    r"(under|below|less than|max|maximum|budget|up to|within|تحت|اقل من|حدود|ميزانيه|ميزانيتي|لحد)\s*"
    r"(of\s*)?(aed|dhs|dirhams?|درهم)?\s*\d"
)


def _budget_in(text: str) -> int | None:
    """A budget stated with a cue ("under 180,000 dirhams", "ميزانيتي 200 ألف"), else None."""
    folded = fold(text)
    cue = _BUDGET_CUE.search(folded)
    amount = parse_amount(folded[cue.start():]) if cue else None
    return amount if amount is not None and 5_000 <= amount <= 50_000_000 else None


def _trade_mode(said: str) -> str | None:
    upgrade, valuation = _has_any(said, _UPGRADE_HINTS), _has_any(said, _VALUATION_HINTS)
    if valuation:
        return "valuation"
    if upgrade:
        return "upgrade"
    return None


@intent("trade_in")
def trade_in(turn: Turn) -> Reply:
    said = turn.message.text or ""
    turn.data = {}
    mode = _trade_mode(norm(said))
    turn.remember(request=said[:1000])
    if mode == "valuation":
        turn.remember(mode=mode)
        _prefill_vehicle(turn)
        mileage = next((parse_amount(m) for m in turn.parse.values("mileage") if parse_amount(m) is not None), None)
        if mileage is not None and 0 <= mileage <= 2_000_000:
            turn.remember(mileage_km=mileage)
    elif mode == "upgrade":
        turn.remember(mode=mode)
        _prefill_wish(turn, said)
    return _trade_continue(turn)


def _prefill_wish(turn: Turn, said: str) -> None:
    make, model = car_in_text(turn.session, said)
    owned = any(v.make == make and (model is None or v.model == model) for v in turn.vehicles())
    if make and not owned:
        turn.remember(car={"make": make, "model": model, "min_year": _year_in(said)})
    amount = _budget_in(said)
    if amount is not None:
        turn.remember(budget=amount)


def _trade_continue(turn: Turn) -> Reply:
    data = turn.data
    mode = data.get("mode")
    if mode is None:
        options = [turn.option("mode:valuation", "trade_mode_valuation"),
                   turn.option("mode:upgrade", "trade_mode_upgrade")]
        return turn.ask("trade_in", "mode", "trade_ask_mode", options)
    if mode == "valuation":
        if "vehicle" not in data:
            return _ask_vehicle(turn, "trade_in")
        if "mileage_km" not in data:
            return _ask_mileage(turn)
        if "condition" not in data:
            return turn.ask("trade_in", "condition", "trade_ask_condition", _condition_options(turn))
        return _valuation_done(turn)
    if "car" not in data:
        return turn.ask("trade_in", "car", "trade_ask_car", [turn.option("car:any", "trade_car_any")],
                        free_text=True)
    if "budget" not in data:
        return turn.ask("trade_in", "budget", "trade_ask_budget", [turn.option("budget:none", "trade_budget_none")])
    return _upgrade_done(turn)


_CONTINUE["trade_in"] = _trade_continue


@step("trade_in", "mode")
def trade_mode_step(turn: Turn) -> Reply:
    mode = None
    if turn.selected is not None and turn.selected.id.startswith("mode:"):
        mode = turn.selected.id.removeprefix("mode:")
    else:
        mode = _trade_mode(norm(turn.message.text or ""))
    if mode not in ("valuation", "upgrade"):
        options = [turn.option("mode:valuation", "trade_mode_valuation"),
                   turn.option("mode:upgrade", "trade_mode_upgrade")]
        return turn.ask("trade_in", "mode", "trade_mode_again", options)
    turn.remember(mode=mode)
    return _trade_continue(turn)


def _ask_mileage(turn: Turn, key: str = "trade_ask_mileage", **values: Any) -> Reply:
    options = []
    vehicle_id = turn.data.get("vehicle_id")
    if vehicle_id is not None:
        last = _latest_km(turn, vehicle_id)
        if last is not None:
            options.append(turn.option(f"mileage:{last}", "trade_mileage_last", km=_group(last)))
    return turn.ask("trade_in", "mileage", key, options, **values)


@step("trade_in", "mileage", keeps=("report_mileage",))
def trade_mileage_step(turn: Turn) -> Reply:
    if turn.selected is not None and turn.selected.id.startswith("mileage:"):
        km: int | None = int(turn.selected.id.removeprefix("mileage:"))
    else:
        km = parse_amount(turn.message.text or "")
    if km is None or not 0 <= km <= 2_000_000:
        return _ask_mileage(turn, "trade_mileage_again")
    vehicle_id = turn.data.get("vehicle_id")
    last = _latest_km(turn, vehicle_id) if vehicle_id is not None else None
    if last is not None and km < last:
        return _ask_mileage(turn, "trade_mileage_lower", last=_group(last))
    turn.remember(mileage_km=km)
    return _trade_continue(turn)


def _condition_options(turn: Turn) -> list[Option]:
    return [turn.option(f"condition:{c}", f"trade_condition_{c}") for c in _CONDITIONS]


@step("trade_in", "condition", keeps=("feedback", "affirm"))
def trade_condition_step(turn: Turn) -> Reply:
    condition = None
    if turn.selected is not None and turn.selected.id.startswith("condition:"):
        condition = turn.selected.id.removeprefix("condition:")
    else:
        said = norm(turn.message.text or "")
        condition = next((c for c, words in _CONDITION_WORDS.items() if _has_any(said, words)), None)
        if condition is not None:
            turn.remember(condition_note=(turn.message.text or "")[:500])
    if condition not in _CONDITIONS:
        return turn.ask("trade_in", "condition", "trade_condition_again", _condition_options(turn))
    turn.remember(condition=condition)
    return _trade_continue(turn)


def _valuation_done(turn: Turn) -> Reply:
    data = turn.data
    details = {
        "request": data.get("request"),
        "vehicle": data["vehicle"],
        "mileage_km": data["mileage_km"],
        "condition": data["condition"],
    }
    if data.get("condition_note"):
        details["condition_note"] = data["condition_note"]
    create_lead(turn, "trade_in_valuation", data.get("vehicle_id"), details)
    done = turn.t(
        "trade_valuation_done",
        vehicle=data["vehicle"],
        km=_group(data["mileage_km"]),
        condition=turn.t(f"trade_condition_{data['condition']}"),
    )
    turn.remember(done=[*data.get("done", []), "valuation"])
    if "upgrade" in data.get("done", []):
        turn.finish()
        return Reply(done)
    ask = turn.ask("trade_in", "offer", "trade_offer_upgrade", _yes_no(turn))
    return Reply(f"{done}\n\n{ask.text}", ask.options)


@step("trade_in", "car")
def trade_car_step(turn: Turn) -> Reply | list[Reply]:
    if (urgent := emergency(turn)) is not None:
        return urgent
    if turn.selected is not None and turn.selected.id == "car:any":
        turn.remember(car={"make": None, "model": None, "min_year": None})
        return _trade_continue(turn)
    said = turn.message.text or ""
    make, model = car_in_text(turn.session, said)
    if make is None:
        return turn.ask("trade_in", "car", "trade_car_again", [turn.option("car:any", "trade_car_any")],
                        free_text=True)
    turn.remember(car={"make": make, "model": model, "min_year": _year_in(said)})
    if "budget" not in turn.data:
        amount = _budget_in(said)
        if amount is not None:
            turn.remember(budget=amount)
    return _trade_continue(turn)


@step("trade_in", "budget", keeps=("report_mileage", "finance", "deny"))
def trade_budget_step(turn: Turn) -> Reply:
    if turn.selected is not None and turn.selected.id == "budget:none":
        turn.remember(budget=None)
        return _trade_continue(turn)
    said = norm(turn.message.text or "")
    if said in {"no limit", "none", "any", "no budget", "مفتوحه", "مفتوح", "بدون", "اي سعر"}:
        turn.remember(budget=None)
        return _trade_continue(turn)
    amount = parse_amount(turn.message.text or "")
    if amount is not None and amount < 5_000 and re.search(r"\d", said) and amount >= 5:
        amount *= 1_000  # "150" means 150k when one talks about car prices
    if amount is None or not 5_000 <= amount <= 50_000_000:
        return turn.ask("trade_in", "budget", "trade_budget_again", [turn.option("budget:none", "trade_budget_none")])
    turn.remember(budget=amount)
    return _trade_continue(turn)


def _wish_text(turn: Turn, car: dict[str, Any], budget: int | None) -> str:
    parts = [_car_description(car.get("make"), car.get("model"), None) or turn.t("trade_any_car")]
    if car.get("min_year"):
        parts.append(turn.t("trade_from_year", year=car["min_year"]))
    if budget is not None:
        parts.append(turn.t("trade_up_to", amount=_group(budget)))
    return ", ".join(parts) if turn.language == "en" else "، ".join(parts)


def _matching_stock(turn: Turn, car: dict[str, Any], budget: int | None) -> list[StockVehicle]:
    query = select(StockVehicle).where(StockVehicle.status == "available")
    if car.get("make"):
        query = query.where(StockVehicle.make == car["make"])
    if car.get("model"):
        query = query.where(StockVehicle.model == car["model"])
    if car.get("min_year"):
        query = query.where(StockVehicle.year >= car["min_year"])
    if budget is not None:
        query = query.where(StockVehicle.price_aed <= Decimal(budget))
    return list(turn.session.scalars(query.order_by(StockVehicle.price_aed, StockVehicle.id).limit(3)))


def _upgrade_done(turn: Turn) -> Reply:
    data = turn.data
    car, budget = data["car"], data.get("budget")
    wish_id = None
    if turn.customer is not None:
        budget_aed = None if budget is None else Decimal(budget)
        existing = turn.session.scalars(
            select(UpgradeWish).where(UpgradeWish.customer_id == turn.customer.id, UpgradeWish.active.is_(True))
        )
        wish = next(
            (
                w for w in existing
                if (w.make, w.model, w.min_year) == (car.get("make"), car.get("model"), car.get("min_year"))
                and (w.max_budget_aed is None if budget_aed is None else w.max_budget_aed == budget_aed)
            ),
            None,
        )
        if wish is None:
            wish = UpgradeWish(
                customer_id=turn.customer.id,
                make=car.get("make"),
                model=car.get("model"),
                min_year=car.get("min_year"),
                max_budget_aed=budget_aed,
                active=True,
                created_at=turn.now,
            )
            turn.session.add(wish)
            turn.session.flush()
        wish_id = wish.id
    details = {"request": data.get("request"), "make": car.get("make"), "model": car.get("model"),
               "min_year": car.get("min_year"), "max_budget_aed": budget, "upgrade_wish_id": wish_id}
    create_lead(turn, "upgrade", None, details)
    wish_text = _wish_text(turn, car, budget)
    lines = [turn.t("trade_wish_saved" if turn.customer is not None else "trade_wish_lead", wish=wish_text)]
    stock = _matching_stock(turn, car, budget)
    if stock:
        names = {b.id: (b.name_ar if turn.language == "ar" else b.name_en)
                 for b in turn.session.scalars(select(Branch))}
        cars = "\n".join(
            turn.t("trade_stock_line", make=s.make, model=s.model, year=s.year, km=_group(s.mileage_km),
                   price=_group(int(s.price_aed)), branch=names.get(s.branch_id, ""))
            for s in stock
        )
        lines.append(turn.t("trade_stock_now", cars=cars))
    turn.remember(done=[*data.get("done", []), "upgrade"])
    if "valuation" in data.get("done", []):
        turn.finish()
        return Reply("\n\n".join(lines))
    ask = turn.ask("trade_in", "offer", "trade_offer_valuation", _yes_no(turn))
    return Reply("\n\n".join([*lines, ask.text]), ask.options)


@step("trade_in", "offer", keeps=("affirm", "deny"))
def trade_offer_step(turn: Turn) -> Reply:
    answer = turn.yes_no()
    data = turn.data
    done = data.get("done", [])
    if answer is None:
        return turn.ask("trade_in", "offer", "trade_offer_again", _yes_no(turn))
    if not answer:
        turn.finish()
        return turn.reply("leads_closing")
    turn.data = {"done": done, "mode": "upgrade" if "valuation" in done else "valuation"}
    return _trade_continue(turn)


# --- finance ----------------------------------------------------------------------------------------------

_FINANCE_KINDS = ("refinance", "instalment_change", "insurance")
_FINANCE_WORDS = {
    "insurance": ("insur*", "policy", "driver on", "تامين*", "بوليصه"),
    "instalment_change": ("instalment*", "installment*", "payment*", "emi", "defer*", "postpone*", "cheque*",
                          "direct debit", "skip", "pay double", "monthly", "قسط*", "اقساط*", "دفعه", "الدفعه",
                          "الدفعات", "تاجيل", "اجل*", "شيكات", "شيك", "الشهري*"),
    "refinance": ("refinanc*", "re financ*", "loan*", "settle*", "pay off", "payoff", "owe", "clearance",
                  "mortgage", "no objection", "interest rate*", "rates", "اعاده تمويل", "اعاده التمويل", "قرض*",
                  "سداد", "تسديد", "مخالصه", "براءه ذمه", "رهن", "فائده", "تمويل بنكي", "التمويل البنكي"),
}


def _finance_kind(said: str) -> str | None:
    return next((kind for kind, words in _FINANCE_WORDS.items() if _has_any(said, words)), None)


def _finance_options(turn: Turn) -> list[Option]:
    return [turn.option(f"finance:{k}", f"finance_kind_{k}") for k in _FINANCE_KINDS]


@intent("finance")
def finance(turn: Turn) -> Reply:
    said = turn.message.text or ""
    turn.data = {}
    kind = _finance_kind(norm(said))
    if kind is not None:
        turn.remember(kind=kind, request=said[:1000])
    own = own_vehicle_in_text(turn)
    if own is not None:
        turn.remember(vehicle_id=own.id, vehicle=vehicle_label(own))
    else:
        make, _ = car_in_text(turn.session, said)
        if make and not any(v.make == make for v in turn.vehicles()):
            turn.remember(vehicle_id=None, vehicle=None)  # a car that is not theirs: the request says which
    return _finance_continue(turn)


def _finance_continue(turn: Turn) -> Reply:
    data = turn.data
    if "kind" not in data:
        return turn.ask("finance", "kind", "finance_ask_kind", _finance_options(turn))
    if "request" not in data:
        return turn.ask("finance", "details", "finance_ask_details", free_text=True)
    if "vehicle" not in data:
        vehicles = turn.vehicles()
        if len(vehicles) > 1:
            return _ask_vehicle(turn, "finance")
        if vehicles:
            turn.remember(vehicle_id=vehicles[0].id, vehicle=vehicle_label(vehicles[0]))
        else:
            turn.remember(vehicle_id=None, vehicle=None)
        data = turn.data
    details = {"request": data["request"], "vehicle": data.get("vehicle")}
    create_lead(turn, data["kind"], data.get("vehicle_id"), details)
    turn.finish()
    vehicle = turn.t("finance_for_vehicle", vehicle=data["vehicle"]) if data.get("vehicle") else ""
    return turn.reply("finance_done", kind=turn.t(f"finance_kind_{data['kind']}"), vehicle=vehicle)


_CONTINUE["finance"] = _finance_continue


@step("finance", "kind")
def finance_kind_step(turn: Turn) -> Reply:
    kind = None
    if turn.selected is not None and turn.selected.id.startswith("finance:"):
        kind = turn.selected.id.removeprefix("finance:")
    else:
        kind = _finance_kind(norm(turn.message.text or ""))
        if kind is not None:
            turn.remember(request=(turn.message.text or "")[:1000])
    if kind not in _FINANCE_KINDS:
        return turn.ask("finance", "kind", "finance_kind_again", _finance_options(turn))
    turn.remember(kind=kind)
    return _finance_continue(turn)


@step("finance", "details")
def finance_details_step(turn: Turn) -> Reply | list[Reply]:
    if (urgent := emergency(turn)) is not None:
        return urgent
    said = (turn.message.text or "").strip()
    if not _valid_description(said):
        return turn.ask("finance", "details", "finance_details_again", free_text=True)
    turn.remember(request=said[:1000])
    return _finance_continue(turn)


# --- parts_order ------------------------------------------------------------------------------------------

_PREFERENCES = ("oem", "aftermarket", "either")
_PREFERENCE_WORDS = {
    "either": ("either", "both", "any", "compare", "whichever", "doesn t matter", "الاثنين", "الثنين", "كلاهما",
               "ايهما", "اي واحد", "ما يفرق", "مو مهم"),
    "aftermarket": ("aftermarket", "after market", "non genuine", "non original", "not original", "copy",
                    "cheaper", "commercial", "تجاري", "تجاريه", "كوبي", "غير اصلي", "غير اصليه", "ارخص"),
    "oem": ("genuine", "original", "oem", "agency", "اصلي", "اصليه", "وكاله", "الوكاله"),
}
_PART_STOPWORDS = {norm(w) for w in (
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


def names_a_part(session: Any, text: str) -> bool:
    """Whether a parts message names the part, beyond "I want spare parts for my car"."""
    said = _strip_cars(session, norm(text))
    for words in _PREFERENCE_WORDS.values():
        for word in words:
            said = re.sub(rf"(?<!\w){_AR_PREFIX}{re.escape(norm(word))}(?!\w)", " ", said)
    rest = [w for w in said.split() if w not in _PART_STOPWORDS and not w.isdigit() and len(w) >= 2]
    return bool(rest)


def _preference(said: str) -> str | None:
    return next((p for p, words in _PREFERENCE_WORDS.items() if _has_any(said, words)), None)


def _preference_options(turn: Turn) -> list[Option]:
    return [turn.option(f"preference:{p}", f"parts_preference_{p}") for p in _PREFERENCES]


@intent("parts_order")
def parts_order(turn: Turn) -> Reply:
    said = turn.message.text or ""
    turn.data = {}
    if names_a_part(turn.session, said):
        turn.remember(part=said[:500])
    _prefill_vehicle(turn)
    preference = _preference(norm(said))
    if preference is not None:
        turn.remember(preference=preference)
    return _parts_continue(turn)


def _parts_continue(turn: Turn) -> Reply:
    data = turn.data
    if "part" not in data:
        return turn.ask("parts_order", "part", "parts_ask_part", free_text=True)
    if "vehicle" not in data:
        return _ask_vehicle(turn, "parts_order")
    if "preference" not in data:
        return turn.ask("parts_order", "preference", "parts_ask_preference", _preference_options(turn))
    details = {"part": data["part"], "vehicle": data["vehicle"], "preference": data["preference"]}
    create_lead(turn, "parts_request", data.get("vehicle_id"), details)
    turn.finish()
    part = data["part"] if len(data["part"]) <= 120 else data["part"][:117] + "..."
    return turn.reply("parts_done", part=part, vehicle=data["vehicle"],
                      preference=turn.t(f"parts_pref_in_text_{data['preference']}"))


_CONTINUE["parts_order"] = _parts_continue


@step("parts_order", "part")
def parts_part_step(turn: Turn) -> Reply | list[Reply]:
    if (urgent := emergency(turn)) is not None:
        return urgent
    said = (turn.message.text or "").strip()
    if not (_valid_description(said) and names_a_part(turn.session, said)):
        return turn.ask("parts_order", "part", "parts_part_again", free_text=True)
    turn.remember(part=said[:500])
    if "preference" not in turn.data:
        preference = _preference(norm(said))
        if preference is not None:
            turn.remember(preference=preference)
    return _parts_continue(turn)


@step("parts_order", "preference")
def parts_preference_step(turn: Turn) -> Reply:
    if turn.selected is not None and turn.selected.id.startswith("preference:"):
        preference: str | None = turn.selected.id.removeprefix("preference:")
    else:
        preference = _preference(norm(turn.message.text or ""))
    if preference not in _PREFERENCES:
        return turn.ask("parts_order", "preference", "parts_preference_again", _preference_options(turn))
    turn.remember(preference=preference)
    return _parts_continue(turn)
