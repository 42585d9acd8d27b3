"""Appointments: book a service, reschedule, cancel, check — on the customer's own vehicles and bookings.

book_service: vehicle (skipped if only one) → service type (price and duration) → branch → time (slots
that really fit the branch's bays and hours; free text such as "tomorrow after 6" or "باجر العصر" is read
by bot/when.py and the nearest fitting slots are offered) → options (courtesy car while stocks last,
pick-up/drop-off, mobile service at home for eligible work at branches that offer it — the address as
free text —, express lane for short jobs) → confirm → booking reference. Customers on a maintenance plan
get the package discount and priority slots (actions/slots.py). What the customer already said in the
first message (service type, branch, a time) is used and not asked again.

reschedule_appointment / cancel_appointment / check_appointment work on the customer's own future
appointments (status booked) only; a reference of someone else's booking is answered like an unknown one.
Cancelling frees the bay, the mobile team and the courtesy car at once (capacity counts booked rows only).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from actions import slots
from actions.general import need_customer, with_menu
from actions.registry import SWITCH_CONFIDENCE, intent, step
from actions.turn import Turn
from bot.messages import register
from bot.types import Option, Reply
from bot.when import When, parse_when
from db.models import Appointment, Branch, ServicePackage, ServiceType, Vehicle
from dealerbot.logging import get_logger

log = get_logger("actions.appointments")

BOOK = "book_service"
RESCHEDULE = "reschedule_appointment"
CANCEL = "cancel_appointment"
EXTRAS = ("courtesy", "pickup", "mobile", "express")
EXPRESS_MAX_MINUTES = 60  # the express lane takes short jobs only
_REFERENCE = re.compile(r"\bBK-?([A-Z0-9]{6})\b", re.IGNORECASE)

register(
    {
        # --- choosing -----------------------------------------------------------------------------
        "appt_ask_vehicle": {
            "en": "Which car would you like to book a service for?",
            "ar": "لأي سيارة تريد حجز موعد الصيانة؟",
        },
        "appt_ask_service": {
            "en": "Which service does your {vehicle} need? Prices and durations:",
            "ar": "ما الخدمة التي تحتاجها سيارتك {vehicle}؟ الأسعار والمدة:",
        },
        "appt_plan_note": {
            "en": "Your {plan} plan gives you {percent}% off and priority booking.",
            "ar": "باقتك {plan} تمنحك خصماً بنسبة {percent}% وأولوية في الحجز.",
        },
        "appt_service_option": {
            "en": "{name} — {price} AED, about {minutes} min",
            "ar": "{name} — {price} درهم، حوالي {minutes} دقيقة",
        },
        "appt_ask_branch": {
            "en": "{service}: {price} AED, about {minutes} min. Which service centre suits you?",
            "ar": "{service}: {price} درهم، حوالي {minutes} دقيقة. أي مركز خدمة يناسبك؟",
        },
        "appt_ask_slot": {
            "en": "When would you like to come to {branch}? Here are the earliest free times; or write a day "
            "and time, e.g. \"tomorrow after 6\" or \"next Sat morning\". We are open evenings and weekends too.",
            "ar": "متى تود الحضور إلى {branch}؟ هذه أقرب الأوقات المتاحة، أو اكتب اليوم والوقت، مثل \"باجر العصر\" "
            "أو \"الأحد الساعة 10\". نعمل في المساء وعطلة نهاية الأسبوع أيضاً.",
        },
        "appt_slots_fit": {
            "en": "These times are free at {branch}:",
            "ar": "هذه الأوقات متاحة في {branch}:",
        },
        "appt_slots_nearest": {
            "en": "Sorry, nothing is free at {branch} at that time. The nearest free times are:",
            "ar": "عذراً، لا يوجد وقت متاح في {branch} في ذلك الوقت. أقرب الأوقات المتاحة:",
        },
        "appt_no_slots": {
            "en": "Sorry, {branch} has no free time for this service in the next three weeks. Please call "
            "{phone} and a colleague will fit you in.",
            "ar": "عذراً، لا يوجد وقت متاح في {branch} لهذه الخدمة خلال الأسابيع الثلاثة القادمة. يرجى الاتصال "
            "على {phone} وسيجد لك أحد زملائنا موعداً.",
        },
        "appt_when_unclear": {
            "en": "Sorry, I did not catch the day or time. Pick one of these, or write it like \"tomorrow after 6\" "
            "or \"Sunday at 10\":",
            "ar": "عذراً، لم أفهم اليوم أو الوقت. اختر أحد هذه الأوقات، أو اكتبه مثل \"بكرة بعد الساعة 6\" أو "
            "\"الأحد الساعة 10\":",
        },
        "appt_pick_again": {
            "en": "Please choose one of the options below.",
            "ar": "يرجى اختيار أحد الخيارات أدناه.",
        },
        "appt_slot_label": {"en": "{weekday} {day} {month}, {time}", "ar": "{weekday} {day} {month}، {time}"},
        # --- extras ---------------------------------------------------------------------------------
        "appt_ask_extras": {
            "en": "{when} is yours. Would you like any of these? Choose one at a time, or \"No extras\" to go on.",
            "ar": "الموعد {when} متاح لك. هل تريد أياً من هذه الخدمات؟ اختر واحدة في كل مرة، أو \"بدون خدمات إضافية\" "
            "للمتابعة.",
        },
        "appt_ask_more_extras": {
            "en": "Added: {extras}. Anything else?",
            "ar": "تمت الإضافة: {extras}. هل تريد شيئاً آخر؟",
        },
        "appt_extra_courtesy": {
            "en": "Courtesy car while yours is serviced ({left} left)",
            "ar": "سيارة بديلة أثناء صيانة سيارتك (متبقٍ {left})",
        },
        "appt_extra_pickup": {
            "en": "Pick-up and drop-off of your car",
            "ar": "استلام السيارة من موقعك وإعادتها",
        },
        "appt_extra_mobile": {
            "en": "Mobile service at your home or office",
            "ar": "خدمة متنقلة في منزلك أو مكتبك",
        },
        "appt_extra_express": {
            "en": "Express lane (short job, while you wait)",
            "ar": "المسار السريع (عمل قصير أثناء انتظارك)",
        },
        "appt_extras_none": {"en": "No extras", "ar": "بدون خدمات إضافية"},
        "appt_extras_done": {"en": "Continue", "ar": "متابعة"},
        "appt_name_courtesy": {"en": "courtesy car", "ar": "سيارة بديلة"},
        "appt_name_pickup": {"en": "pick-up and drop-off", "ar": "استلام وتوصيل السيارة"},
        "appt_name_mobile": {"en": "mobile service at {address}", "ar": "خدمة متنقلة في {address}"},
        "appt_name_express": {"en": "express lane", "ar": "المسار السريع"},
        "appt_no_courtesy_left": {
            "en": "Sorry, all courtesy cars are taken at that time. Pick-up and drop-off is still possible:",
            "ar": "عذراً، جميع السيارات البديلة محجوزة في ذلك الوقت. لا يزال بإمكاننا استلام سيارتك وتوصيلها:",
        },
        "appt_ask_address": {
            "en": "Where should our technician come? Please write the address (area, street, building or villa).",
            "ar": "أين يأتي الفني؟ يرجى كتابة العنوان (المنطقة، الشارع، المبنى أو الفيلا).",
        },
        "appt_address_short": {
            "en": "Please write the full address, e.g. \"Villa 12, Street 5, Al Barsha 2\".",
            "ar": "يرجى كتابة العنوان كاملاً، مثل \"فيلا 12، شارع 5، البرشاء 2\".",
        },
        "appt_mobile_full": {
            "en": "Sorry, our mobile technicians are fully booked at that time. Please choose another time:",
            "ar": "عذراً، الفنيون المتنقلون محجوزون بالكامل في ذلك الوقت. يرجى اختيار وقت آخر:",
        },
        # --- confirming -----------------------------------------------------------------------------
        "appt_confirm": {
            "en": "Please confirm: {service} for your {vehicle} at {branch}, {when}.{extras}\nPrice: {price} AED"
            "{discount}. Shall I book it?",
            "ar": "يرجى التأكيد: {service} لسيارتك {vehicle} في {branch}، {when}.{extras}\nالسعر: {price} درهم"
            "{discount}. هل أؤكد الحجز؟",
        },
        "appt_confirm_extras": {"en": "\nExtras: {extras}.", "ar": "\nالخدمات الإضافية: {extras}."},
        "appt_confirm_discount": {
            "en": " ({plan}: -{discount} AED, you pay {total} AED)",
            "ar": " ({plan}: خصم {discount} درهم، المبلغ المستحق {total} درهم)",
        },
        "appt_yes": {"en": "Yes, book it", "ar": "نعم، أكّد الحجز"},
        "appt_no": {"en": "No", "ar": "لا"},
        "appt_yes_no": {
            "en": "Please answer yes or no.",
            "ar": "يرجى الإجابة بنعم أو لا.",
        },
        "appt_booked": {
            "en": "Booked! Your reference is {reference}: {service} at {branch}, {when}. Address: {address}. "
            "We will remind you the day before. To change it, just write \"reschedule\".",
            "ar": "تم الحجز! رقم الحجز {reference}: {service} في {branch}، {when}. العنوان: {address}. "
            "سنذكّرك قبل الموعد بيوم. لتغيير الموعد اكتب \"تغيير الموعد\".",
        },
        "appt_booked_mobile": {
            "en": "Booked! Your reference is {reference}: {service}, {when}, our technician comes to {address}. "
            "We will remind you the day before.",
            "ar": "تم الحجز! رقم الحجز {reference}: {service}، {when}، وسيأتيك الفني إلى {address}. "
            "سنذكّرك قبل الموعد بيوم.",
        },
        "appt_slot_gone": {
            "en": "Sorry, {when} was just taken by another customer. These times are still free:",
            "ar": "عذراً، الموعد {when} حُجز للتو من عميل آخر. هذه الأوقات لا تزال متاحة:",
        },
        "appt_not_booked": {
            "en": "OK, I have not booked anything. Anything else I can do?",
            "ar": "حسناً، لم أحجز أي موعد. هل أستطيع مساعدتك في شيء آخر؟",
        },
        # --- own appointments -----------------------------------------------------------------------
        "appt_line": {
            "en": "{reference}: {service} for {vehicle} at {branch}, {when}",
            "ar": "{reference}: {service} لسيارة {vehicle} في {branch}، {when}",
        },
        "appt_list": {
            "en": "Your upcoming appointments:\n{lines}",
            "ar": "مواعيدك القادمة:\n{lines}",
        },
        "appt_none": {
            "en": "You have no upcoming appointments. Would you like to book one?",
            "ar": "ليس لديك مواعيد قادمة. هل تريد حجز موعد؟",
        },
        "appt_book_new": {"en": "Book a service", "ar": "حجز موعد صيانة"},
        "appt_reschedule_option": {"en": "Change the time", "ar": "تغيير الموعد"},
        "appt_cancel_option": {"en": "Cancel an appointment", "ar": "إلغاء موعد"},
        "appt_ask_which_reschedule": {
            "en": "Which appointment would you like to move?",
            "ar": "أي موعد تريد تغييره؟",
        },
        "appt_ask_which_cancel": {
            "en": "Which appointment would you like to cancel?",
            "ar": "أي موعد تريد إلغاءه؟",
        },
        "appt_not_found": {
            "en": "I could not find that appointment among your upcoming ones. Please choose one of these:",
            "ar": "لم أجد هذا الموعد بين مواعيدك القادمة. يرجى اختيار أحد هذه المواعيد:",
        },
        "appt_reschedule_ask_slot": {
            "en": "{line}\nWhen would you like to come instead? Pick a time or write one, e.g. \"tomorrow after 6\".",
            "ar": "{line}\nما الموعد الجديد الذي يناسبك؟ اختر وقتاً أو اكتبه، مثل \"باجر العصر\".",
        },
        "appt_reschedule_confirm": {
            "en": "Move {reference} from {old} to {new}?",
            "ar": "هل أنقل الموعد {reference} من {old} إلى {new}؟",
        },
        "appt_rescheduled": {
            "en": "Done: {reference} is now {when} at {branch}.",
            "ar": "تم: أصبح موعدك {reference} {when} في {branch}.",
        },
        "appt_not_rescheduled": {
            "en": "OK, your appointment stays as it was. Anything else?",
            "ar": "حسناً، يبقى موعدك كما هو. هل تحتاج شيئاً آخر؟",
        },
        "appt_cancel_confirm": {
            "en": "Cancel {line}?",
            "ar": "هل تريد إلغاء {line}؟",
        },
        "appt_cancel_yes": {"en": "Yes, cancel it", "ar": "نعم، ألغِ الموعد"},
        "appt_cancel_no": {"en": "No, keep it", "ar": "لا، أبقِ الموعد"},
        "appt_cancelled": {
            "en": "Your appointment {reference} is cancelled. Write any time to book a new one.",
            "ar": "تم إلغاء موعدك {reference}. راسلنا في أي وقت لحجز موعد جديد.",
        },
        "appt_not_cancelled": {
            "en": "OK, I kept your appointment {reference}. Anything else?",
            "ar": "حسناً، أبقيت موعدك {reference}. هل تحتاج شيئاً آخر؟",
        },
        "appt_mobile_place": {"en": "at your place", "ar": "في موقعك"},
        # --- names of days and months -----------------------------------------------------------
        **{
            f"appt_wd_{n}": {"en": en, "ar": ar}
            for n, (en, ar) in enumerate(
                (("Mon", "الاثنين"), ("Tue", "الثلاثاء"), ("Wed", "الأربعاء"), ("Thu", "الخميس"),
                 ("Fri", "الجمعة"), ("Sat", "السبت"), ("Sun", "الأحد"))
            )
        },
        **{
            f"appt_month_{n}": {"en": en, "ar": ar}
            for n, (en, ar) in enumerate(
                (("Jan", "يناير"), ("Feb", "فبراير"), ("Mar", "مارس"), ("Apr", "أبريل"), ("May", "مايو"),
                 ("Jun", "يونيو"), ("Jul", "يوليو"), ("Aug", "أغسطس"), ("Sep", "سبتمبر"), ("Oct", "أكتوبر"),
                 ("Nov", "نوفمبر"), ("Dec", "ديسمبر")),
                start=1,
            )
        },
    }
)


# --- shared helpers ------------------------------------------------------------------------------------


def _money(amount: Decimal) -> str:
    amount = Decimal(amount)
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


def when_label(turn: Turn, at: datetime) -> str:
    """A start time as the customer reads it: "Sat 28 Nov, 09:00" in Dubai time."""
    local = at.astimezone(turn.tz)
    return turn.t(
        "appt_slot_label",
        weekday=turn.t(f"appt_wd_{local.weekday()}"),
        day=local.day,
        month=turn.t(f"appt_month_{local.month}"),
        time=local.strftime("%H:%M"),
    )


def _vehicle_label(vehicle: Vehicle) -> str:
    plate = f" ({vehicle.plate})" if vehicle.plate else ""
    return f"{vehicle.make} {vehicle.model} {vehicle.year}{plate}"


def _name(turn: Turn, row: Any) -> str:
    return getattr(row, f"name_{turn.language}", None) or row.name_en


def _slot_option(turn: Turn, at: datetime) -> Option:
    local = at.astimezone(turn.tz)
    return Option(f"slot:{local.strftime('%Y-%m-%dT%H:%M')}", when_label(turn, local))


def _slot_from_id(turn: Turn, option_id: str) -> datetime | None:
    try:
        return datetime.fromisoformat(option_id.removeprefix("slot:")).replace(tzinfo=turn.tz)
    except ValueError:
        return None


def _own_vehicle(turn: Turn, vehicle_id: int | None) -> Vehicle | None:
    if vehicle_id is None or turn.customer is None:
        return None
    vehicle = turn.session.get(Vehicle, vehicle_id)
    return vehicle if vehicle is not None and vehicle.customer_id == turn.customer.id else None


def _services(turn: Turn) -> list[ServiceType]:
    return list(turn.session.scalars(select(ServiceType).where(ServiceType.active.is_(True)).order_by(ServiceType.id)))


def _service(turn: Turn, code: str | None) -> ServiceType | None:
    if not code:
        return None
    return turn.session.scalar(select(ServiceType).where(ServiceType.code == code, ServiceType.active.is_(True)))


def _branches(turn: Turn) -> list[Branch]:
    return list(turn.session.scalars(select(Branch).order_by(Branch.id)))


def _branch(turn: Turn, code: str | None) -> Branch | None:
    if not code:
        return None
    return turn.session.scalar(select(Branch).where(Branch.code == code))


def _plan(turn: Turn, vehicle_id: int, on: date | None = None) -> ServicePackage | None:
    return slots.active_plan(turn.session, vehicle_id, on or turn.local_now.date())


def _need(turn: Turn, branch: Branch, service: ServiceType, vehicle_id: int, extras: dict[str, Any],
          exclude_id: int | None = None) -> slots.Need:
    plan = _plan(turn, vehicle_id)
    return slots.Need.for_service(
        branch.id, service,
        mobile=bool(extras.get("mobile")),
        courtesy_car=bool(extras.get("courtesy")),
        priority=bool(plan and plan.priority_booking),
        exclude_id=exclude_id,
    )


def _when_from(data: dict[str, Any] | None) -> When | None:
    if not data:
        return None
    return When(
        day=date.fromisoformat(data["day"]) if data.get("day") else None,
        start=datetime.strptime(data["start"], "%H:%M").time() if data.get("start") else None,
        end=datetime.strptime(data["end"], "%H:%M").time() if data.get("end") else None,
        exact=bool(data.get("exact")),
    )


def _when_data(when: When | None) -> dict[str, Any] | None:
    if when is None:
        return None
    return {
        "day": when.day.isoformat() if when.day else None,
        "start": when.start.strftime("%H:%M") if when.start else None,
        "end": when.end.strftime("%H:%M") if when.end else None,
        "exact": when.exact,
    }


def _yes_no(turn: Turn, yes_key: str = "appt_yes", no_key: str = "appt_no") -> list[Option]:
    return [turn.option("yes", yes_key), turn.option("no", no_key)]


# --- book_service ----------------------------------------------------------------------------------------


@intent("book_service")
def book_service(turn: Turn) -> Reply:
    if turn.customer is None:
        return need_customer(turn)
    vehicles = turn.vehicles()
    if not vehicles:
        return with_menu(turn, "no_vehicles")
    turn.data = {}
    prefill: dict[str, Any] = {"extras": {}}
    hinted = next((v for v in vehicles if str(v.id) == turn.hints.get("vehicle")), None)
    if hinted is not None:  # picked "book" under an answer about one of the cars
        prefill["vehicle_id"] = hinted.id
    elif len(vehicles) == 1:
        prefill["vehicle_id"] = vehicles[0].id
    code = next(iter(turn.parse.values("service_type")), None)
    if _service(turn, code) is not None:
        prefill["service"] = code
    branch = next(iter(turn.parse.values("branch")), None)
    if _branch(turn, branch) is not None:
        prefill["branch"] = branch
    when = parse_when(turn.message.text or "", turn.local_now)
    if when is not None:
        prefill["when"] = _when_data(when)
    turn.remember(**prefill)
    return _advance(turn)


def _advance(turn: Turn) -> Reply:
    """Ask for the first thing the booking still lacks; confirm when nothing is missing."""
    data = turn.data
    vehicle = _own_vehicle(turn, data.get("vehicle_id"))
    if vehicle is None:
        options = [Option(f"vehicle:{v.id}", _vehicle_label(v)) for v in turn.vehicles()]
        return turn.ask(BOOK, "vehicle", "appt_ask_vehicle", options)
    service = _service(turn, data.get("service"))
    if service is None:
        return _ask_service(turn, vehicle)
    branch = _branch(turn, data.get("branch"))
    if branch is None:
        options = [Option(f"branch:{b.code}", _name(turn, b)) for b in _branches(turn)]
        return turn.ask(BOOK, "branch", "appt_ask_branch", options, service=_name(turn, service),
                        price=_money(service.price_aed), minutes=service.duration_minutes)
    if not data.get("slot"):
        return _offer_slots(turn, BOOK, branch, service, vehicle.id, _when_from(data.get("when")))
    if not data.get("extras_done"):
        reply = _ask_extras(turn, branch, service)
        if reply is not None:
            return reply
    return _ask_confirm(turn, vehicle, service, branch)


def _ask_service(turn: Turn, vehicle: Vehicle) -> Reply:
    options = [
        Option(f"service:{s.code}", turn.t("appt_service_option", name=_name(turn, s), price=_money(s.price_aed),
                                           minutes=s.duration_minutes))
        for s in _services(turn)
    ]
    reply = turn.ask(BOOK, "service", "appt_ask_service", options, vehicle=_vehicle_label(vehicle))
    plan = _plan(turn, vehicle.id)
    if plan is not None:
        reply.text += "\n" + turn.t("appt_plan_note", plan=_name(turn, plan), percent=plan.discount_percent)
    return reply


def _offer_slots(turn: Turn, flow: str, branch: Branch, service: ServiceType, vehicle_id: int,
                 wanted: When | None, *, key: str | None = None, exclude_id: int | None = None,
                 extras: dict[str, Any] | None = None, **values: Any) -> Reply:
    need = _need(turn, branch, service, vehicle_id, extras if extras is not None else turn.data.get("extras", {}),
                 exclude_id)
    found, fitted = slots.find_slots(turn.session, need, turn.now, turn.tz, wanted)
    if not found:
        turn.finish()
        return with_menu(turn, "appt_no_slots", branch=_name(turn, branch), phone=branch.phone)
    options = [_slot_option(turn, at) for at in found]
    if key is None:
        key = "appt_ask_slot" if wanted is None or wanted.empty else ("appt_slots_fit" if fitted else "appt_slots_nearest")
    return turn.ask(flow, "slot", key, options, free_text=True, branch=_name(turn, branch), **values)


def _extras_available(turn: Turn, branch: Branch, service: ServiceType, at: datetime) -> dict[str, Option]:
    chosen = turn.data.get("extras", {})
    options: dict[str, Option] = {}
    mobile = bool(chosen.get("mobile"))
    if not mobile and not chosen.get("courtesy"):
        left = slots.courtesy_cars_left(turn.session, branch, at, timedelta(minutes=service.duration_minutes))
        if left > 0:
            options["courtesy"] = turn.option("extra:courtesy", "appt_extra_courtesy", left=left)
    if not mobile and not chosen.get("pickup"):
        options["pickup"] = turn.option("extra:pickup", "appt_extra_pickup")
    if (not mobile and not chosen.get("courtesy") and not chosen.get("pickup") and not chosen.get("express")
            and service.mobile_eligible and branch.offers_mobile_service):
        options["mobile"] = turn.option("extra:mobile", "appt_extra_mobile")
    if (not mobile and not chosen.get("express") and service.express_eligible
            and service.duration_minutes <= EXPRESS_MAX_MINUTES):
        options["express"] = turn.option("extra:express", "appt_extra_express")
    return options


def _extras_text(turn: Turn, extras: dict[str, Any], address: str | None = None) -> str:
    names = []
    for name in EXTRAS:
        if extras.get(name):
            names.append(turn.t(f"appt_name_{name}", address=address or extras.get("address") or ""))
    return ", ".join(names)


def _ask_extras(turn: Turn, branch: Branch, service: ServiceType) -> Reply | None:
    at = _slot_from_id(turn, turn.data["slot"])
    assert at is not None
    available = _extras_available(turn, branch, service, at)
    chosen = turn.data.get("extras", {})
    if not available:
        turn.remember(extras_done=True)
        return None
    if any(chosen.get(name) for name in EXTRAS):
        options = [*available.values(), turn.option("extras:done", "appt_extras_done")]
        return turn.ask(BOOK, "extras", "appt_ask_more_extras", options, extras=_extras_text(turn, chosen))
    options = [*available.values(), turn.option("extras:done", "appt_extras_none")]
    return turn.ask(BOOK, "extras", "appt_ask_extras", options, when=when_label(turn, at))


def _ask_confirm(turn: Turn, vehicle: Vehicle, service: ServiceType, branch: Branch) -> Reply:
    data = turn.data
    at = _slot_from_id(turn, data["slot"])
    assert at is not None
    plan = _plan(turn, vehicle.id, at.date())
    cut = slots.discount(service.price_aed, plan)
    extras = _extras_text(turn, data.get("extras", {}))
    return turn.ask(
        BOOK, "confirm", "appt_confirm", _yes_no(turn),
        service=_name(turn, service), vehicle=_vehicle_label(vehicle), branch=_name(turn, branch),
        when=when_label(turn, at),
        extras=turn.t("appt_confirm_extras", extras=extras) if extras else "",
        price=_money(service.price_aed),
        discount=turn.t("appt_confirm_discount", plan=_name(turn, plan), discount=_money(cut),
                        total=_money(service.price_aed - cut)) if plan and cut else "",
    )


@step(BOOK, "vehicle")
def book_vehicle(turn: Turn) -> Reply:
    if turn.selected is not None and turn.selected.id.startswith("vehicle:"):
        vehicle = _own_vehicle(turn, int(turn.selected.id.split(":", 1)[1]))
        if vehicle is not None:
            turn.remember(vehicle_id=vehicle.id)
            return _advance(turn)
    options = [Option(f"vehicle:{v.id}", _vehicle_label(v)) for v in turn.vehicles()]
    return turn.ask(BOOK, "vehicle", "appt_ask_vehicle", options)


@step(BOOK, "service")
def book_service_type(turn: Turn) -> Reply:
    code = None
    if turn.selected is not None and turn.selected.id.startswith("service:"):
        code = turn.selected.id.split(":", 1)[1]
    elif turn.parse.values("service_type"):
        code = turn.parse.values("service_type")[0]
    if _service(turn, code) is not None:
        turn.remember(service=code)
        return _advance(turn)
    vehicle = _own_vehicle(turn, turn.data.get("vehicle_id"))
    assert vehicle is not None
    reply = _ask_service(turn, vehicle)
    reply.text = turn.t("appt_pick_again") + "\n" + reply.text
    return reply


@step(BOOK, "branch", keeps=("dealership_info",))
def book_branch(turn: Turn) -> Reply:
    code = None
    if turn.selected is not None and turn.selected.id.startswith("branch:"):
        code = turn.selected.id.split(":", 1)[1]
    elif turn.parse.values("branch"):
        code = turn.parse.values("branch")[0]
    if _branch(turn, code) is not None:
        turn.remember(branch=code)
        return _advance(turn)
    service = _service(turn, turn.data.get("service"))
    assert service is not None
    options = [Option(f"branch:{b.code}", _name(turn, b)) for b in _branches(turn)]
    reply = turn.ask(BOOK, "branch", "appt_ask_branch", options, service=_name(turn, service),
                     price=_money(service.price_aed), minutes=service.duration_minutes)
    reply.text = turn.t("appt_pick_again") + "\n" + reply.text
    return reply


def _slot_step(turn: Turn, flow: str, branch: Branch, service: ServiceType, vehicle_id: int,
               extras: dict[str, Any], exclude_id: int | None, on_pick: Any) -> Reply:
    """Shared by booking and rescheduling: a picked slot (re-checked) or a free-text day and time."""
    if turn.selected is not None and turn.selected.id.startswith("slot:"):
        at = _slot_from_id(turn, turn.selected.id)
        need = _need(turn, branch, service, vehicle_id, extras, exclude_id)
        if at is not None and slots.is_free(turn.session, need, at, turn.now, turn.tz):
            return on_pick(at)
        when = When(day=at.date(), start=at.time(), exact=True) if at else None
        return _offer_slots(turn, flow, branch, service, vehicle_id, when, key="appt_slot_gone",
                            exclude_id=exclude_id, extras=extras, when=turn.selected.label)
    when = parse_when(turn.message.text or "", turn.local_now)
    if when is None:
        offered = [Option(o["id"], o["label"]) for o in turn.state.data.get("options", [])]
        return turn.ask(flow, "slot", "appt_when_unclear", offered, free_text=True)
    return _offer_slots(turn, flow, branch, service, vehicle_id, when, exclude_id=exclude_id, extras=extras)


@step(BOOK, "slot")
def book_slot(turn: Turn) -> Reply:
    data = turn.data
    branch = _branch(turn, data.get("branch"))
    service = _service(turn, data.get("service"))
    assert branch is not None and service is not None

    def picked(at: datetime) -> Reply:
        turn.remember(slot=at.strftime("slot:%Y-%m-%dT%H:%M"), extras_done=False,
                      extras={k: v for k, v in data.get("extras", {}).items() if k in {"mobile", "address"}})
        return _advance(turn)

    return _slot_step(turn, BOOK, branch, service, data["vehicle_id"], data.get("extras", {}), None, picked)


@step(BOOK, "extras")
def book_extras(turn: Turn) -> Reply:
    data = turn.data
    branch = _branch(turn, data.get("branch"))
    service = _service(turn, data.get("service"))
    assert branch is not None and service is not None
    at = _slot_from_id(turn, data["slot"])
    assert at is not None
    choice = turn.selected.id if turn.selected is not None else None
    said = " ".join((turn.message.text or "").split()).lower()
    done_words = {turn.t(k).lower() for k in ("appt_extras_done", "appt_extras_none")}
    if choice == "extras:done" or (choice is None and (turn.yes_no() is False or said in done_words)):
        turn.remember(extras_done=True)
        return _advance(turn)
    available = _extras_available(turn, branch, service, at)
    name = choice.split(":", 1)[1] if choice and choice.startswith("extra:") else None
    if name == "mobile" and "mobile" in available:
        return turn.ask(BOOK, "address", "appt_ask_address", free_text=True)
    if name == "courtesy" and "courtesy" not in available:
        options = [o for o in available.values()] + [turn.option("extras:done", "appt_extras_done")]
        return turn.ask(BOOK, "extras", "appt_no_courtesy_left", options)
    if name in available:
        turn.remember(extras={**data.get("extras", {}), name: True})
        return _advance(turn)
    reply = _ask_extras(turn, branch, service)
    if reply is None:
        return _advance(turn)
    reply.text = turn.t("appt_pick_again") + "\n" + reply.text
    return reply


@step(BOOK, "address")
def book_address(turn: Turn) -> Reply:
    address = " ".join((turn.message.text or "").split())[:300]
    if len(address) < 8 or not re.search(r"\w{2,}", address):
        return turn.ask(BOOK, "address", "appt_address_short", free_text=True)
    data = turn.data
    branch = _branch(turn, data.get("branch"))
    service = _service(turn, data.get("service"))
    assert branch is not None and service is not None
    extras = {"mobile": True, "address": address}
    at = _slot_from_id(turn, data["slot"])
    need = _need(turn, branch, service, data["vehicle_id"], extras)
    turn.remember(extras=extras)
    if at is None or not slots.is_free(turn.session, need, at, turn.now, turn.tz):
        turn.remember(slot=None)
        when = When(day=at.date(), start=at.time(), exact=True) if at else None
        return _offer_slots(turn, BOOK, branch, service, data["vehicle_id"], when, key="appt_mobile_full",
                            extras=extras)
    return _advance(turn)


@step(BOOK, "confirm", keeps=("affirm", "deny"))
def book_confirm(turn: Turn) -> Reply:
    answer = turn.yes_no()
    if answer is None:
        return turn.ask(BOOK, "confirm", "appt_yes_no", _yes_no(turn))
    if not answer:
        turn.finish()
        return with_menu(turn, "appt_not_booked")
    assert turn.customer is not None
    data = turn.data
    vehicle = _own_vehicle(turn, data.get("vehicle_id"))
    branch = _branch(turn, data.get("branch"))
    service = _service(turn, data.get("service"))
    at = _slot_from_id(turn, data.get("slot") or "")
    assert vehicle is not None and branch is not None and service is not None and at is not None
    extras = data.get("extras", {})
    need = _need(turn, branch, service, vehicle.id, extras)
    plan = _plan(turn, vehicle.id, at.date())
    try:
        appointment = slots.book(
            turn.session, customer_id=turn.customer.id, vehicle_id=vehicle.id, service=service, need=need,
            at=at, now=turn.now, price=service.price_aed, discount_aed=slots.discount(service.price_aed, plan),
            pickup_dropoff=bool(extras.get("pickup")), express_lane=bool(extras.get("express")),
            service_address=extras.get("address") if extras.get("mobile") else None,
        )
    except slots.SlotTaken:
        turn.remember(slot=None, extras_done=False)
        return _offer_slots(turn, BOOK, branch, service, vehicle.id, When(day=at.date(), start=at.time(), exact=True),
                            key="appt_slot_gone", when=when_label(turn, at))
    turn.finish()
    if appointment.mobile_service:
        turn.alert_staff(
            "mobile_service_booked", f"appointment-mobile:{appointment.reference}",
            {"reference": appointment.reference, "branch": branch.code, "starts_at": appointment.starts_at.isoformat(),
             "service": service.code},
            recipient=f"branch:{branch.code}",
        )
        return turn.reply("appt_booked_mobile", reference=appointment.reference, service=_name(turn, service),
                          when=when_label(turn, at), address=appointment.service_address)
    return turn.reply("appt_booked", reference=appointment.reference, service=_name(turn, service),
                      branch=_name(turn, branch), when=when_label(turn, at),
                      address=getattr(branch, f"address_{turn.language}", branch.address_en))


# --- the customer's own appointments ---------------------------------------------------------------------


def upcoming(turn: Turn) -> list[Appointment]:
    """The customer's own future appointments that are still booked, soonest first."""
    if turn.customer is None:
        return []
    return list(
        turn.session.scalars(
            select(Appointment)
            .where(Appointment.customer_id == turn.customer.id, Appointment.status == "booked",
                   Appointment.starts_at > turn.now)
            .order_by(Appointment.starts_at)
        )
    )


def appointment_line(turn: Turn, appointment: Appointment) -> str:
    service = turn.session.get(ServiceType, appointment.service_type_id)
    vehicle = turn.session.get(Vehicle, appointment.vehicle_id)
    branch = turn.session.get(Branch, appointment.branch_id)
    assert service is not None and vehicle is not None and branch is not None
    line = turn.t("appt_line", reference=appointment.reference, service=_name(turn, service),
                  vehicle=_vehicle_label(vehicle),
                  branch=turn.t("appt_mobile_place") if appointment.mobile_service else _name(turn, branch),
                  when=when_label(turn, appointment.starts_at))
    extras = _extras_text(turn, {"courtesy": appointment.courtesy_car, "pickup": appointment.pickup_dropoff,
                                 "mobile": appointment.mobile_service, "express": appointment.express_lane},
                          appointment.service_address)
    return f"{line} ({extras})" if extras else line


def _own_appointment(turn: Turn, reference: str | None) -> Appointment | None:
    if not reference:
        return None
    return next((a for a in upcoming(turn) if a.reference.upper() == reference.upper()), None)


def _picked_appointment(turn: Turn) -> Appointment | None:
    if turn.selected is not None and turn.selected.id.startswith("appt:"):
        return _own_appointment(turn, turn.selected.id.split(":", 1)[1])
    match = _REFERENCE.search(turn.message.text or "")
    return _own_appointment(turn, f"BK-{match.group(1)}") if match else None


def _appointment_options(turn: Turn, appointments: list[Appointment]) -> list[Option]:
    return [Option(f"appt:{a.reference}", appointment_line(turn, a)) for a in appointments]


def _start_on_own(turn: Turn, flow: str, key: str, then: Any) -> Reply:
    if turn.customer is None:
        return need_customer(turn)
    turn.data = {}
    own = upcoming(turn)
    if not own:
        options = [turn.option("intent:book_service", "appt_book_new")]
        turn.offer(options)
        return turn.reply("appt_none", options)
    picked = _picked_appointment(turn)
    if picked is None and len(own) == 1:
        picked = own[0]
    if picked is not None:
        return then(turn, picked)
    return turn.ask(flow, "pick", key, _appointment_options(turn, own))


def _pick_step(turn: Turn, flow: str, then: Any) -> Reply:
    picked = _picked_appointment(turn)
    if picked is not None:
        return then(turn, picked)
    own = upcoming(turn)
    if not own:
        turn.finish()
        return with_menu(turn, "appt_none")
    return turn.ask(flow, "pick", "appt_not_found", _appointment_options(turn, own))


@intent("check_appointment")
def check_appointment(turn: Turn) -> Reply:
    if turn.customer is None:
        return need_customer(turn)
    own = upcoming(turn)
    if not own:
        options = [turn.option("intent:book_service", "appt_book_new")]
        turn.offer(options)
        return turn.reply("appt_none", options)
    lines = "\n".join(f"• {appointment_line(turn, a)}" for a in own)
    options = [
        turn.option("intent:reschedule_appointment", "appt_reschedule_option"),
        turn.option("intent:cancel_appointment", "appt_cancel_option"),
        turn.option("intent:book_service", "appt_book_new"),
    ]
    turn.offer(options)
    return turn.reply("appt_list", options, lines=lines)


# --- reschedule ------------------------------------------------------------------------------------------


def _appointment_parts(turn: Turn, appointment: Appointment) -> tuple[Branch, ServiceType, dict[str, Any]]:
    branch = turn.session.get(Branch, appointment.branch_id)
    service = turn.session.get(ServiceType, appointment.service_type_id)
    assert branch is not None and service is not None
    extras = {"mobile": appointment.mobile_service, "courtesy": appointment.courtesy_car}
    return branch, service, extras


def _reschedule_ask_slot(turn: Turn, appointment: Appointment) -> Reply:
    turn.remember(reference=appointment.reference)
    branch, service, extras = _appointment_parts(turn, appointment)
    when = parse_when(turn.message.text or "", turn.local_now)
    if when is not None and turn.step != "slot":
        return _offer_slots(turn, RESCHEDULE, branch, service, appointment.vehicle_id, when,
                            exclude_id=appointment.id, extras=extras)
    return _offer_slots(turn, RESCHEDULE, branch, service, appointment.vehicle_id, None,
                        key="appt_reschedule_ask_slot", exclude_id=appointment.id, extras=extras,
                        line=appointment_line(turn, appointment))


@intent("reschedule_appointment")
def reschedule_appointment(turn: Turn) -> Reply:
    return _start_on_own(turn, RESCHEDULE, "appt_ask_which_reschedule", _reschedule_ask_slot)


@step(RESCHEDULE, "pick")
def reschedule_pick(turn: Turn) -> Reply:
    return _pick_step(turn, RESCHEDULE, _reschedule_ask_slot)


@step(RESCHEDULE, "slot")
def reschedule_slot(turn: Turn) -> Reply:
    appointment = _own_appointment(turn, turn.data.get("reference"))
    if appointment is None:
        turn.finish()
        return with_menu(turn, "appt_none")
    branch, service, extras = _appointment_parts(turn, appointment)

    def picked(at: datetime) -> Reply:
        turn.remember(slot=at.strftime("slot:%Y-%m-%dT%H:%M"))
        return turn.ask(RESCHEDULE, "confirm", "appt_reschedule_confirm", _yes_no(turn),
                        reference=appointment.reference, old=when_label(turn, appointment.starts_at),
                        new=when_label(turn, at))

    return _slot_step(turn, RESCHEDULE, branch, service, appointment.vehicle_id, extras, appointment.id, picked)


@step(RESCHEDULE, "confirm", keeps=("affirm", "deny"))
def reschedule_confirm(turn: Turn) -> Reply:
    answer = turn.yes_no()
    if answer is None:
        return turn.ask(RESCHEDULE, "confirm", "appt_yes_no", _yes_no(turn))
    appointment = _own_appointment(turn, turn.data.get("reference"))
    if not answer or appointment is None:
        turn.finish()
        return with_menu(turn, "appt_not_rescheduled")
    branch, service, extras = _appointment_parts(turn, appointment)
    at = _slot_from_id(turn, turn.data.get("slot") or "")
    assert at is not None
    need = _need(turn, branch, service, appointment.vehicle_id, extras, appointment.id)
    try:
        slots.move(turn.session, appointment, need, at, turn.now)
    except slots.SlotTaken:
        return _offer_slots(turn, RESCHEDULE, branch, service, appointment.vehicle_id,
                            When(day=at.date(), start=at.time(), exact=True), key="appt_slot_gone",
                            exclude_id=appointment.id, extras=extras, when=when_label(turn, at))
    turn.finish()
    return turn.reply("appt_rescheduled", reference=appointment.reference, when=when_label(turn, at),
                      branch=turn.t("appt_mobile_place") if appointment.mobile_service else _name(turn, branch))


# --- cancel ----------------------------------------------------------------------------------------------


def _cancel_ask_confirm(turn: Turn, appointment: Appointment) -> Reply:
    turn.remember(reference=appointment.reference)
    return turn.ask(CANCEL, "confirm", "appt_cancel_confirm", _yes_no(turn, "appt_cancel_yes", "appt_cancel_no"),
                    line=appointment_line(turn, appointment))


@intent("cancel_appointment")
def cancel_appointment(turn: Turn) -> Reply:
    return _start_on_own(turn, CANCEL, "appt_ask_which_cancel", _cancel_ask_confirm)


@step(CANCEL, "pick")
def cancel_pick(turn: Turn) -> Reply:
    return _pick_step(turn, CANCEL, _cancel_ask_confirm)


@step(CANCEL, "confirm", keeps=("affirm", "deny", "cancel_appointment"))
def cancel_confirm(turn: Turn) -> Reply:
    answer = turn.yes_no()
    if answer is None and turn.parse.intent == "cancel_appointment" and turn.parse.confidence >= SWITCH_CONFIDENCE:
        answer = True  # "yes cancel it"
    appointment = _own_appointment(turn, turn.data.get("reference"))
    if answer is None:
        return turn.ask(CANCEL, "confirm", "appt_yes_no", _yes_no(turn, "appt_cancel_yes", "appt_cancel_no"))
    turn.finish()
    if appointment is None:
        return with_menu(turn, "appt_none")
    if not answer:
        return with_menu(turn, "appt_not_cancelled", reference=appointment.reference)
    slots.cancel(turn.session, appointment, turn.now)
    return turn.reply("appt_cancelled", reference=appointment.reference)
