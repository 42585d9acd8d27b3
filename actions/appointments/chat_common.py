"""What the booking and the check/reschedule/cancel chats share: how a time, an appointment and the
extras read, and the "when?" step that offers free times (picked, or written as "tomorrow after 6")."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from actions.appointments import rules, service, slots
from actions.kit import formats, vehicles
from actions.kit.flows import Step
from actions.kit.menu import with_menu
from actions.kit.normalise import ascii_digits
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from actions.kit.when import When, parse_when
from actions.recalls.service import open_recalls
from db.models import Appointment, Branch, ServiceType, Vehicle


def name_of(turn: Turn, row: Any) -> str:
    """A branch's, service's or plan's name in the customer's language."""
    return getattr(row, f"name_{turn.language}", None) or row.name_en


def when_label(turn: Turn, at: datetime) -> str:
    """A start time as the customer reads it: "Sat 28 Nov, 09:00" in Dubai time."""
    local = at.astimezone(turn.tz)
    return turn.t("appt_slot_label", day=formats.day_month(local.date(), turn.language), time=formats.clock(local))


def yes_no(turn: Turn, yes_key: str = "appt_yes", no_key: str = "appt_no") -> list[Option]:
    return [turn.option("yes", yes_key), turn.option("no", no_key)]


def own_vehicle(turn: Turn, vehicle_id: int | None) -> Vehicle | None:
    return service.own_vehicle(turn.session, turn.customer.id, vehicle_id) if turn.customer else None


def upcoming(turn: Turn) -> list[Appointment]:
    return service.upcoming(turn.session, turn.now, turn.customer.id) if turn.customer else []


def own_appointment(turn: Turn, reference: str | None) -> Appointment | None:
    if turn.customer is None:
        return None
    return service.own_appointment(turn.session, turn.now, turn.customer.id, reference)


def need(turn: Turn, branch: Branch, kind: ServiceType, vehicle_id: int, extras: dict[str, Any],
         exclude_id: int | None = None) -> slots.Need:
    return service.need_for(turn.session, turn.local_now.date(), branch, kind, vehicle_id, extras, exclude_id)


def extras_text(turn: Turn, extras: dict[str, Any], address: str | None = None) -> str:
    """"courtesy car, express lane" — the extras chosen, named."""
    where = address or extras.get("address") or ""
    return ", ".join(turn.t(f"appt_name_{name}" if name != "pickup" or not where else "appt_name_pickup_at",
                            address=where)
                     for name in rules.EXTRAS if extras.get(name))


def appointment_line(turn: Turn, appointment: Appointment) -> str:
    """"BK-3H7KQA: Oil change for Toyota … at Dubai Service Centre, Sun 29 Nov, 09:00 (courtesy car)"."""
    kind = turn.session.get(ServiceType, appointment.service_type_id)
    vehicle = turn.session.get(Vehicle, appointment.vehicle_id)
    branch = turn.session.get(Branch, appointment.branch_id)
    assert kind is not None and vehicle is not None and branch is not None
    line = turn.t("appt_line", reference=appointment.reference, service=name_of(turn, kind),
                  vehicle=vehicles.label(vehicle),
                  branch=turn.t("appt_mobile_place") if appointment.mobile_service else name_of(turn, branch),
                  when=when_label(turn, appointment.starts_at))
    extras = extras_text(turn, {"courtesy": appointment.courtesy_car, "pickup": appointment.pickup_dropoff,
                                "mobile": appointment.mobile_service, "express": appointment.express_lane},
                         appointment.service_address)
    return f"{line} ({extras})" if extras else line


# --- the "when?" step -------------------------------------------------------------------------------------


def offer_slots(turn: Turn, step: Step, branch: Branch, kind: ServiceType, vehicle_id: int, wanted: When | None,
                *, key: str | None = None, exclude_id: int | None = None, extras: dict[str, Any] | None = None,
                **values: Any) -> Reply:
    """Ask `step` with the free times that fit the wish (or the nearest ones); none in three weeks ends the flow."""
    wish = need(turn, branch, kind, vehicle_id, extras if extras is not None else turn.data.get("extras", {}),
                exclude_id)
    found, fitted = slots.find_slots(turn.session, wish, turn.now, turn.tz, wanted)
    if not found:
        turn.finish()
        return with_menu(turn, "appt_no_slots", branch=name_of(turn, branch), phone=branch.phone)
    options = [Option(rules.slot_id(at, turn.tz), when_label(turn, at)) for at in found]
    if key is None:
        key = "appt_ask_slot" if wanted is None or wanted.empty else ("appt_slots_fit" if fitted else "appt_slots_nearest")
    return turn.ask(step, key, options, free_text=True, detours=True, branch=name_of(turn, branch), **values)


def _offered_at_hour(turn: Turn) -> Option | None:
    """The one offered time on the hour a message names by its number alone ("11 is fine", "at 5 pls": 05:00
    or 17:00), or None."""
    numbers = re.findall(r"(?<![\w:.])(\d{1,2})(?![\w:.])", ascii_digits(turn.said))
    if len(numbers) != 1 or not 1 <= int(numbers[0]) <= 23:
        return None
    hour = int(numbers[0])
    hits = [o for o, at in _offered_times(turn) if at.minute == 0 and at.hour in {hour, hour + 12}]
    return hits[0] if len(hits) == 1 else None


def _offered_times(turn: Turn) -> list[tuple[Option, datetime]]:
    """The times on offer with their local start."""
    offered = [(o, rules.slot_at(o.id, turn.tz)) for o in turn.offered if o.id.startswith("slot:")]
    return [(o, at.astimezone(turn.tz)) for o, at in offered if at is not None]


def slot_step(turn: Turn, step: Step, branch: Branch, kind: ServiceType, vehicle_id: int, extras: dict[str, Any],
              exclude_id: int | None, on_pick: Callable[[datetime], Reply]) -> Reply:
    """Shared by booking and rescheduling: a picked slot (re-checked) or a free-text day and time."""
    if turn.selected is not None and turn.selected_by == "number" and not turn.said.strip().isdigit():
        # "5 is fine" after asking for 5pm: the time on offer at 5, rather than the fifth time listed.
        at_hour = _offered_at_hour(turn)
        if at_hour is not None:
            turn.selected = at_hour
    if turn.selected is not None and turn.selected.id.startswith("slot:"):
        at = rules.slot_at(turn.selected.id, turn.tz)
        wish = need(turn, branch, kind, vehicle_id, extras, exclude_id)
        if at is not None and slots.is_free(turn.session, wish, at, turn.now, turn.tz):
            return on_pick(at)
        return offer_slots(turn, step, branch, kind, vehicle_id, rules.around(at) if at else None,
                           key="appt_slot_gone", exclude_id=exclude_id, extras=extras, when=turn.selected.label)
    when = parse_when(turn.said, turn.local_now)
    if when is None:
        at_hour = _offered_at_hour(turn)
        if at_hour is not None:  # "11 is fine" with 11:00 among the times on offer
            turn.selected = at_hour
            return slot_step(turn, step, branch, kind, vehicle_id, extras, exclude_id, on_pick)
        offered = turn.offered
        return turn.ask(step, "appt_when_unclear", offered, free_text=True, detours=True)
    if when.day is None and (when.start is not None or when.end is not None):
        # A time without a day answers the times on offer ("the 8:30 one" after Tuesday's times): the
        # offered slot at that time, else the same time window on the day the offered times are on.
        local = _offered_times(turn)
        at_that_time = [o for o, at in local if when.exact and at.time() == when.start]
        if len(at_that_time) == 1:
            turn.selected = at_that_time[0]
            return slot_step(turn, step, branch, kind, vehicle_id, extras, exclude_id, on_pick)
        days = {at.date() for _, at in local}
        if len(days) == 1:
            when = replace(when, day=days.pop())
    return offer_slots(turn, step, branch, kind, vehicle_id, when, exclude_id=exclude_id, extras=extras)


def with_open_recalls(turn: Turn, vehicle: Vehicle, booked: Reply, recall_work: bool) -> Reply:
    """A booking's confirmation, naming the car's open recalls (free, done at the same visit if the
    customer asks); a booking of the recall work itself names none."""
    if recall_work:
        return booked
    titles = [r.title_ar if turn.language == "ar" else r.title_en for r in open_recalls(turn.session, vehicle)]
    if not titles:
        return booked
    return replace(booked, text=f"{booked.text}\n{turn.t('appt_open_recalls', recalls='; '.join(titles))}")
