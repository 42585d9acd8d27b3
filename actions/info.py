"""General information and emergencies: branch hours and locations, roadside assistance (issue 4).

Both are open to unknown senders: they show only the dealership's own data (branches, hours, numbers).
Roadside assistance answers at once with the emergency number and safety guidance, alerts staff at once,
and then asks where the customer is (free text, or a shared location as a `geo:lat,lng` URI, a map link
or plain coordinates), which goes to staff as a second urgent alert.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from actions.leads import fold, norm, own_vehicle_in_text, vehicle_label, word_re
from actions.registry import intent, step
from actions.turn import Turn
from bot.messages import register
from bot.types import Attachment, Reply
from db.models import Branch, Vehicle
from dealerbot.logging import get_logger

log = get_logger("actions.info")

register(
    {
        # --- dealership_info --------------------------------------------------------------------------
        "info_intro_all": {
            "en": "Here are our service centres:",
            "ar": "هذه مراكز الخدمة لدينا:",
        },
        "info_branch": {
            "en": "{name}\nAddress: {address}\nPhone: {phone}\nMap: {map}\nOpening hours (Dubai time):\n{hours}",
            "ar": "{name}\nالعنوان: {address}\nالهاتف: {phone}\nالخريطة: {map}\nساعات العمل (بتوقيت دبي):\n{hours}",
        },
        "info_today_line": {"en": "Today ({day}): {hours} ({status})", "ar": "اليوم ({day}): {hours} ({status})"},
        "info_day_line": {"en": "{day}: {hours}", "ar": "{day}: {hours}"},
        "info_period": {"en": "{opens}–{closes}", "ar": "{opens}–{closes}"},
        "info_period_sep": {"en": ", ", "ar": "، "},
        "info_closed": {"en": "closed", "ar": "مغلق"},
        "info_open_now": {"en": "open now, until {time}", "ar": "مفتوح الآن حتى {time}"},
        "info_opens_later_today": {
            "en": "closed now, opens today at {time}",
            "ar": "مغلق الآن، يفتح اليوم الساعة {time}",
        },
        "info_opens_tomorrow": {
            "en": "closed now, opens tomorrow at {time}",
            "ar": "مغلق الآن، يفتح غداً الساعة {time}",
        },
        "info_opens_on": {"en": "closed now, opens {day} at {time}", "ar": "مغلق الآن، يفتح يوم {day} الساعة {time}"},
        "info_closed_now": {"en": "closed now", "ar": "مغلق الآن"},
        "info_no_branches": {
            "en": "Sorry, I have no branch details at the moment. A colleague can help you.",
            "ar": "عذراً، لا تتوفر لدي تفاصيل الفروع حالياً. يمكن لأحد زملائنا مساعدتك.",
        },
        # --- roadside_assistance ----------------------------------------------------------------------
        "roadside_first": {
            "en": "Emergency line of our {branch}: {phone}\n\n"
            "Are you safe? Switch on your hazard lights, and if you can, get everyone out of the car and wait "
            "away from the traffic, behind the barrier. If anyone is hurt or in danger, call 999 now.\n\n"
            "Where are you? Write the area, road or a landmark, or share your location, and I will pass it to "
            "our roadside team straight away.",
            "ar": "رقم الطوارئ لدى {branch}: {phone}\n\n"
            "هل أنت بأمان؟ شغّل إشارات التحذير (الفلاشر)، وإن أمكن أخرج الجميع من السيارة وابتعدوا عن حركة "
            "السير خلف الحاجز. إذا أصيب أحد أو كان في خطر، اتصل بالرقم 999 فوراً.\n\n"
            "أين أنت؟ اكتب المنطقة أو الطريق أو أقرب معلم، أو شارك موقعك، وسأرسله إلى فريق المساعدة على "
            "الطريق فوراً.",
        },
        "roadside_first_all": {
            "en": "Our emergency lines:\n{lines}\n\n"
            "Are you safe? Switch on your hazard lights, and if you can, get everyone out of the car and wait "
            "away from the traffic, behind the barrier. If anyone is hurt or in danger, call 999 now.\n\n"
            "Where are you? Write the area, road or a landmark, or share your location, and I will pass it to "
            "our roadside team straight away.",
            "ar": "أرقام الطوارئ لدينا:\n{lines}\n\n"
            "هل أنت بأمان؟ شغّل إشارات التحذير (الفلاشر)، وإن أمكن أخرج الجميع من السيارة وابتعدوا عن حركة "
            "السير خلف الحاجز. إذا أصيب أحد أو كان في خطر، اتصل بالرقم 999 فوراً.\n\n"
            "أين أنت؟ اكتب المنطقة أو الطريق أو أقرب معلم، أو شارك موقعك، وسأرسله إلى فريق المساعدة على "
            "الطريق فوراً.",
        },
        "roadside_line": {"en": "- {city}: {phone}", "ar": "- {city}: {phone}"},
        "roadside_location_again": {
            "en": "Please tell me where you are: the area, road or a landmark, or share your location.",
            "ar": "أخبرني أين أنت: المنطقة أو الطريق أو أقرب معلم، أو شارك موقعك.",
        },
        "roadside_safe_where": {
            "en": "Good to hear. Where exactly are you? The area, road or a landmark, or share your location.",
            "ar": "الحمد لله على سلامتك. أين أنت بالضبط؟ اكتب المنطقة أو الطريق أو أقرب معلم، أو شارك موقعك.",
        },
        "roadside_danger": {
            "en": "If anyone is hurt or in danger, call 999 now. Stay away from the traffic. Then tell me where "
            "you are (area, road or landmark, or share your location) and our team will come.",
            "ar": "إذا أصيب أحد أو كان في خطر، اتصل بالرقم 999 فوراً. ابتعد عن حركة السير. ثم أخبرني أين أنت "
            "(المنطقة أو الطريق أو أقرب معلم، أو شارك موقعك) وسيأتي فريقنا.",
        },
        "roadside_done": {
            "en": "Thank you. Our roadside team at {branch} has your location ({location}) and will contact you "
            "shortly. If you need them sooner, call {phone}. Please stay safe and away from the traffic.",
            "ar": "شكراً لك. وصل موقعك ({location}) إلى فريق المساعدة على الطريق لدى {branch} وسيتواصلون معك "
            "قريباً. إن احتجتهم قبل ذلك اتصل على {phone}. ابقَ بأمان وبعيداً عن حركة السير.",
        },
        "roadside_shared_location": {"en": "shared location", "ar": "الموقع المشارك"},
    }
)

# --- branches ----------------------------------------------------------------------------------------------

# Places a customer may name → the code of the branch that serves them (the demo group's branches).
PLACES: dict[str, tuple[str, ...]] = {
    "abu-dhabi": (
        "abu dhabi", "abudhabi", "ابوظبي", "ابو ظبي", "mussafah", "musaffah", "مصفح", "khalifa city",
        "مدينه خليفه", "mbz", "mohammed bin zayed city", "yas", "ياس", "reem island", "جزيره الريم", "ruwais",
        "الرويس", "shahama", "الشهامه", "baniyas", "بني ياس", "al raha", "الراحه",
    ),
    "sharjah": (
        "sharjah", "الشارقه", "ajman", "عجمان", "umm al quwain", "ام القيوين", "ras al khaimah", "rak",
        "راس الخيمه", "fujairah", "الفجيره", "khor fakkan", "خورفكان", "dhaid", "الذيد", "al nahda sharjah",
        "muwaileh", "مويلح",
    ),
    "dubai": (
        "dubai", "دبي", "al quoz", "القوز", "deira", "ديره", "bur dubai", "بر دبي", "jbr", "jlt", "marina",
        "المارينا", "al barsha", "البرشاء", "البرشا", "mirdif", "مردف", "qusais", "القصيص", "jebel ali",
        "جبل علي", "hatta", "حتا", "karama", "الكرامه", "silicon oasis", "business bay", "الخليج التجاري",
        "downtown", "umm suqeim", "ام سقيم", "jumeirah", "جميرا", "al nahda dubai", "szr", "sheikh zayed road",
        "شارع الشيخ زايد",
    ),
}


def all_branches(turn: Turn) -> list[Branch]:
    return list(turn.session.scalars(select(Branch).order_by(Branch.id)))


def branch_name(turn: Turn, branch: Branch) -> str:
    return branch.name_ar if turn.language == "ar" else branch.name_en


def map_url(branch: Branch) -> str:
    return f"https://maps.google.com/?q={Decimal(branch.latitude):f},{Decimal(branch.longitude):f}"


def named_branch(turn: Turn, branches: list[Branch]) -> Branch | None:
    """The branch the message names: the NLU's `branch` entity, else its city, name or a place it serves."""
    by_code = {b.code: b for b in branches}
    for code in turn.parse.values("branch"):
        if code in by_code:
            return by_code[code]
    said = norm(turn.message.text or "")
    if not said:
        return None
    for branch in branches:
        names = (branch.code.replace("-", " "), branch.city_en, branch.city_ar, branch.name_en, branch.name_ar)
        if any(re.search(rf"(?<!\w)(?:ال|ب|في|و)?{re.escape(norm(n))}(?!\w)", said) for n in names if norm(n)):
            return branch
    for code, places in PLACES.items():
        if code in by_code and any(
            re.search(rf"(?<!\w)(?:ال|ب|في|و)?{re.escape(norm(p))}(?!\w)", said) for p in places
        ):
            return by_code[code]
    return None


def _periods(branch: Branch) -> dict[int, list[tuple[time, time]]]:
    periods: dict[int, list[tuple[time, time]]] = {d: [] for d in range(7)}
    for hours in branch.hours:
        periods[hours.weekday].append((hours.opens, hours.closes))
    for day in periods.values():
        day.sort()
    return periods


def _clock(t: time) -> str:
    return t.strftime("%H:%M")


def _hours_text(turn: Turn, periods: list[tuple[time, time]]) -> str:
    if not periods:
        return turn.t("info_closed")
    return turn.t("info_period_sep").join(
        turn.t("info_period", opens=_clock(o), closes=_clock(c)) for o, c in periods
    )


def _status(turn: Turn, periods: dict[int, list[tuple[time, time]]], now: datetime) -> str:
    today, clock = now.weekday(), now.time()
    for opens, closes in periods[today]:
        if opens <= clock < closes:
            return turn.t("info_open_now", time=_clock(closes))
    later = [o for o, _ in periods[today] if o > clock]
    if later:
        return turn.t("info_opens_later_today", time=_clock(later[0]))
    for ahead in range(1, 8):
        day = (today + ahead) % 7
        if periods[day]:
            opens = _clock(periods[day][0][0])
            if ahead == 1:
                return turn.t("info_opens_tomorrow", time=opens)
            return turn.t("info_opens_on", day=turn.t(f"weekday_{day}"), time=opens)
    return turn.t("info_closed_now")


def hours_lines(turn: Turn, branch: Branch) -> str:
    """The week's opening hours in Dubai time, today first (with whether it is open now)."""
    now = turn.local_now
    periods = _periods(branch)
    today = now.weekday()
    lines = [
        turn.t(
            "info_today_line",
            day=turn.t(f"weekday_{today}"),
            hours=_hours_text(turn, periods[today]),
            status=_status(turn, periods, now),
        )
    ]
    for ahead in range(1, 7):
        day = (today + ahead) % 7
        lines.append(turn.t("info_day_line", day=turn.t(f"weekday_{day}"), hours=_hours_text(turn, periods[day])))
    return "\n".join(lines)


def branch_reply(turn: Turn, branch: Branch) -> Reply:
    url = map_url(branch)
    text = turn.t(
        "info_branch",
        name=branch_name(turn, branch),
        address=branch.address_ar if turn.language == "ar" else branch.address_en,
        phone=branch.phone,
        map=url,
        hours=hours_lines(turn, branch),
    )
    return Reply(text, attachments=[Attachment(kind="location", url=url, title=branch_name(turn, branch))])


def _home_branch_id(turn: Turn) -> int | None:
    """The branch that sold the customer's (first) car; None for unknown senders."""
    return next((v.sold_by_branch_id for v in turn.vehicles() if v.sold_by_branch_id is not None), None)


@intent("dealership_info")
def dealership_info(turn: Turn) -> list[Reply]:
    branches = all_branches(turn)
    if not branches:
        return [turn.reply("info_no_branches")]
    named = named_branch(turn, branches)
    if named is not None:
        return [branch_reply(turn, named)]
    home = _home_branch_id(turn)
    branches.sort(key=lambda b: (b.id != home, b.id))
    return [turn.reply("info_intro_all"), *(branch_reply(turn, b) for b in branches)]


# --- roadside_assistance -------------------------------------------------------------------------------------

_NUM = r"(-?\d{1,3}(?:\.\d+)?)"
# A geo: URI (RFC 5870, what channel adapters pass for a shared location), a map link, or bare coordinates.
_GEO = re.compile(rf"(?:geo:|[?&](?:q|query|ll)=|@){_NUM}\s*,\s*{_NUM}")
_COORDS = re.compile(r"(-?\d{1,2}\.\d{3,})\s*[,;\s]\s*(-?\d{1,3}\.\d{3,})")
_SAFE_WORDS = {
    "yes", "yes i am safe", "yes im safe", "i am safe", "im safe", "safe", "we are safe", "were safe", "ok",
    "okay", "fine", "i m safe", "we re safe", "all good", "نعم", "ايوه", "اي", "تمام", "بخير", "انا بخير",
    "نحن بخير", "الحمد لله", "الحمدلله", "نعم بخير", "نعم انا بخير", "سالم", "بامان", "انا بامان",
}
_DANGER_WORDS = (
    "hurt*", "injur*", "bleed*", "unconscious", "fire", "smoke", "not safe", "danger*", "ambulance", "no",
    "help", "مصاب*", "اصاب*", "اصابه", "جرح*", "ينزف", "نزيف", "حريق", "دخان", "مو بامان", "لست بامان",
    "مب بامان", "خطر*", "اسعاف", "لا",
)


def shared_location(turn: Turn) -> tuple[float, float] | None:
    """Coordinates the customer shared: a `geo:` media item, a `geo:` URI, a map link, or "lat, lng"."""
    candidates = [m.url for m in turn.message.media] + [turn.message.text or ""]
    for candidate in candidates:
        said = fold(candidate)
        match = _GEO.search(said) or _COORDS.search(said)
        if match is None:
            continue
        lat, lng = float(match.group(1)), float(match.group(2))
        if -90 <= lat <= 90 and -180 <= lng <= 180:
            return lat, lng
    return None


def nearest_branch(branches: list[Branch], lat: float, lng: float) -> Branch:
    def distance(branch: Branch) -> float:
        phi1, phi2 = math.radians(lat), math.radians(float(branch.latitude))
        dphi, dlmb = phi2 - phi1, math.radians(float(branch.longitude) - lng)
        a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
        return 2 * 6371 * math.asin(math.sqrt(a))

    return min(branches, key=distance)


def _roadside_vehicle(turn: Turn) -> Vehicle | None:
    own = own_vehicle_in_text(turn)
    if own is not None:
        return own
    vehicles = turn.vehicles()
    return vehicles[0] if len(vehicles) == 1 else None


def _alert_payload(turn: Turn, branch: Branch | None, vehicle: Vehicle | None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "urgent": True,
        "branch": branch.code if branch else None,
        "channel": turn.identity.channel,
        "channel_identity_id": turn.identity.id,
        "contact": turn.identity.external_id,
        "customer_id": turn.customer.id if turn.customer else None,
        "language": turn.language,
    }
    if turn.customer is not None:
        payload.update(customer_name=turn.customer.name, customer_phone=turn.customer.phone)
    if vehicle is not None:
        payload.update(vehicle_id=vehicle.id, vehicle=vehicle_label(vehicle), vin=vehicle.vin)
    return payload


@intent("roadside_assistance")
def roadside_assistance(turn: Turn) -> Reply:
    branches = all_branches(turn)
    vehicle = _roadside_vehicle(turn)
    branch = named_branch(turn, branches)
    coords = shared_location(turn)
    if branch is None and coords is not None and branches:
        branch = nearest_branch(branches, *coords)
    if branch is None and turn.customer is not None:
        home = vehicle.sold_by_branch_id if vehicle is not None else _home_branch_id(turn)
        branch = next((b for b in branches if b.id == home), None)
    incident = f"roadside:{turn.identity.id}:{turn.now.isoformat()}"
    payload = _alert_payload(turn, branch, vehicle)
    payload["message"] = (turn.message.text or "")[:1000]
    turn.alert_staff("roadside_assistance", incident, payload, recipient="roadside")
    log.info("roadside_alert", branch=branch.code if branch else None, known_customer=turn.customer is not None)
    turn.data = {
        "incident": incident,
        "branch_id": branch.id if branch else None,
        "vehicle_id": vehicle.id if vehicle else None,
    }
    if branch is not None:
        return turn.ask("roadside", "location", "roadside_first", free_text=True,
                        branch=branch_name(turn, branch), phone=branch.emergency_phone)
    lines = "\n".join(
        turn.t("roadside_line", city=b.city_ar if turn.language == "ar" else b.city_en, phone=b.emergency_phone)
        for b in branches
    )
    return turn.ask("roadside", "location", "roadside_first_all", free_text=True, lines=lines)


@step("roadside", "location")
def roadside_location(turn: Turn) -> Reply:
    said = (turn.message.text or "").strip()
    folded = norm(said)
    coords = shared_location(turn)
    if coords is None:
        if folded in _SAFE_WORDS or (turn.parse.intent == "affirm" and len(folded.split()) <= 4):
            return turn.ask("roadside", "location", "roadside_safe_where", free_text=True)
        if len(folded.split()) <= 6 and any(
            re.search(word_re(w), folded) for w in _DANGER_WORDS
        ) or (turn.parse.intent == "deny" and len(folded.split()) <= 4):
            turn.alert_staff(
                "roadside_danger",
                f"{turn.data.get('incident')}:danger",
                {**_alert_payload(turn, None, None), "message": said[:1000]},
                recipient="roadside",
            )
            return turn.ask("roadside", "location", "roadside_danger", free_text=True)
        if len(folded) < 3 or not re.search(r"[^\W\d_]{2,}", folded):
            return turn.ask("roadside", "location", "roadside_location_again", free_text=True)
    branches = all_branches(turn)
    data = turn.data
    branch = next((b for b in branches if b.id == data.get("branch_id")), None)
    if coords is not None and branches:
        branch = nearest_branch(branches, *coords)
    elif branch is None:
        branch = named_branch(turn, branches) or (branches[0] if branches else None)
    vehicle = None
    if data.get("vehicle_id") is not None:
        vehicle = next((v for v in turn.vehicles() if v.id == data["vehicle_id"]), None)
    location_link = f"https://maps.google.com/?q={coords[0]:.6f},{coords[1]:.6f}" if coords else None
    payload = {
        **_alert_payload(turn, branch, vehicle),
        "incident": data.get("incident"),
        "location": said[:500] if said else None,
        "coordinates": list(coords) if coords else None,
        "map": location_link,
    }
    turn.alert_staff("roadside_location", f"{data.get('incident')}:location", payload, recipient="roadside")
    turn.finish()
    if branch is None:
        return turn.reply("info_no_branches")
    shown = location_link if coords and (not said or _GEO.search(fold(said)) or _COORDS.search(fold(said))) else said
    return turn.reply(
        "roadside_done",
        branch=branch_name(turn, branch),
        location=shown or turn.t("roadside_shared_location"),
        phone=branch.emergency_phone,
    )
