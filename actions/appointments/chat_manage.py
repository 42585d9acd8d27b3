"""The customer's own appointments: check_appointment, and the reschedule and cancel flows.

Only the customer's own future appointments (status booked) count; a reference of someone else's
booking is answered like an unknown one. One appointment is picked at once; several are offered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from actions.appointments import rules, service
from actions.appointments.chat_common import (
    appointment_line, name_of, need, offer_slots, own_appointment, slot_step, upcoming, when_label, yes_no,
)
from actions.kit.flows import SWITCH_CONFIDENCE, Flow, Handlers, Step
from actions.kit.menu import need_customer, with_menu
from actions.kit.normalise import has_any, norm
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from actions.kit.when import parse_when
from db.models import Appointment

RESCHEDULE = Flow("reschedule_appointment")
RESCHEDULE_PICK = RESCHEDULE.step("pick")
RESCHEDULE_SLOT = RESCHEDULE.step("slot")
RESCHEDULE_CONFIRM = RESCHEDULE.step("confirm")
CANCEL = Flow("cancel_appointment")
CANCEL_PICK = CANCEL.step("pick")
CANCEL_CONFIRM = CANCEL.step("confirm")

handlers = Handlers()

Then = Callable[[Turn, Appointment], Reply]


def _picked_appointment(turn: Turn) -> Appointment | None:
    # A reminder's "change the time" / "cancel it" carries the appointment's reference (scheduler.kinds).
    hinted = turn.hints.get("appointment")
    return own_appointment(turn, turn.picked("appt") or hinted or rules.reference_in(turn.said))


def _appointment_options(turn: Turn, appointments: list[Appointment]) -> list[Option]:
    return [Option(f"appt:{a.reference}", appointment_line(turn, a)) for a in appointments]


def _none(turn: Turn) -> Reply:
    options = [turn.option("intent:book_service", "menu_book_service")]
    turn.offer(options)
    return turn.reply("appt_none", options)


def _start_on_own(turn: Turn, pick: Step, key: str, then: Then) -> Reply:
    if turn.customer is None:
        return need_customer(turn)
    turn.data = {}
    own = upcoming(turn)
    if not own:
        return _none(turn)
    picked = _picked_appointment(turn)
    if picked is None and len(own) == 1:
        picked = own[0]
    if picked is not None:
        return then(turn, picked)
    return turn.ask(pick, key, _appointment_options(turn, own))


def _pick_step(turn: Turn, pick: Step, then: Then) -> Reply:
    picked = _picked_appointment(turn)
    if picked is not None:
        return then(turn, picked)
    own = upcoming(turn)
    if not own:
        turn.finish()
        return with_menu(turn, "appt_none")
    return turn.ask(pick, "appt_not_found", _appointment_options(turn, own))


# "so what's the status on that? when do i hear back" reads like an appointment question to the model;
# with no appointment booked it is about a complaint or claim.
_STATUS_WORDS = ("status", "update", "updates", "hear back", "progress", "any news", "وين وصلت", "شو صار", "وش صار",
                 "اي جديد", "أي جديد", "تحديث", "الحاله", "shu sar", "wain wasalt")


@handlers.intent("check_appointment")
def check_appointment(turn: Turn) -> Reply | list[Reply]:
    if turn.customer is None:
        return need_customer(turn)
    own = upcoming(turn)
    if not own:
        if has_any(norm(turn.said), _STATUS_WORDS):
            return turn.answer_as("case_status")
        return _none(turn)
    lines = "\n".join(f"• {appointment_line(turn, a)}" for a in own)
    options = [
        turn.option("intent:reschedule_appointment", "appt_reschedule_option"),
        turn.option("intent:cancel_appointment", "appt_cancel_option"),
        turn.option("intent:book_service", "menu_book_service"),
    ]
    turn.offer(options)
    return turn.reply("appt_list", options, lines=lines)


# --- reschedule ------------------------------------------------------------------------------------------


def _reschedule_ask_slot(turn: Turn, appointment: Appointment) -> Reply:
    turn.remember(reference=appointment.reference)
    branch, kind, extras = service.parts(turn.session, appointment)
    when = parse_when(turn.said, turn.local_now)
    if when is not None and turn.step != RESCHEDULE_SLOT.name:
        return offer_slots(turn, RESCHEDULE_SLOT, branch, kind, appointment.vehicle_id, when,
                           exclude_id=appointment.id, extras=extras)
    return offer_slots(turn, RESCHEDULE_SLOT, branch, kind, appointment.vehicle_id, None,
                       key="appt_reschedule_ask_slot", exclude_id=appointment.id, extras=extras,
                       line=appointment_line(turn, appointment))


@handlers.intent("reschedule_appointment")
def reschedule_appointment(turn: Turn) -> Reply:
    return _start_on_own(turn, RESCHEDULE_PICK, "appt_ask_which_reschedule", _reschedule_ask_slot)


@handlers.step(RESCHEDULE_PICK)
def reschedule_pick(turn: Turn) -> Reply:
    return _pick_step(turn, RESCHEDULE_PICK, _reschedule_ask_slot)


@handlers.step(RESCHEDULE_SLOT)
def reschedule_slot(turn: Turn) -> Reply:
    appointment = own_appointment(turn, turn.data.get("reference"))
    if appointment is None:
        turn.finish()
        return with_menu(turn, "appt_none")
    branch, kind, extras = service.parts(turn.session, appointment)

    def picked(at: datetime) -> Reply:
        turn.remember(slot=rules.slot_id(at, turn.tz))
        return turn.ask(RESCHEDULE_CONFIRM, "appt_reschedule_confirm", yes_no(turn),
                        reference=appointment.reference, old=when_label(turn, appointment.starts_at),
                        new=when_label(turn, at))

    return slot_step(turn, RESCHEDULE_SLOT, branch, kind, appointment.vehicle_id, extras, appointment.id, picked)


@handlers.step(RESCHEDULE_CONFIRM, keeps=("affirm", "deny"))
def reschedule_confirm(turn: Turn) -> Reply:
    answer = turn.yes_no()
    if answer is None:
        return turn.ask(RESCHEDULE_CONFIRM, "appt_yes_no", yes_no(turn))
    appointment = own_appointment(turn, turn.data.get("reference"))
    if not answer or appointment is None:
        turn.finish()
        return with_menu(turn, "appt_not_rescheduled")
    branch, kind, extras = service.parts(turn.session, appointment)
    at = rules.slot_at(turn.data.get("slot") or "", turn.tz)
    assert at is not None
    try:
        service.move(turn.session, appointment, need(turn, branch, kind, appointment.vehicle_id, extras,
                                                     appointment.id), at, turn.now)
    except service.SlotTaken:
        return offer_slots(turn, RESCHEDULE_SLOT, branch, kind, appointment.vehicle_id, rules.around(at),
                           key="appt_slot_gone", exclude_id=appointment.id, extras=extras, when=when_label(turn, at))
    turn.finish()
    return turn.reply("appt_rescheduled", reference=appointment.reference, when=when_label(turn, at),
                      branch=turn.t("appt_mobile_place") if appointment.mobile_service else name_of(turn, branch))


# --- cancel ----------------------------------------------------------------------------------------------


def _cancel_ask_confirm(turn: Turn, appointment: Appointment) -> Reply:
    turn.remember(reference=appointment.reference)
    return turn.ask(CANCEL_CONFIRM, "appt_cancel_confirm", yes_no(turn, "appt_cancel_yes", "appt_cancel_no"),
                    line=appointment_line(turn, appointment))


@handlers.intent("cancel_appointment")
def cancel_appointment(turn: Turn) -> Reply:
    return _start_on_own(turn, CANCEL_PICK, "appt_ask_which_cancel", _cancel_ask_confirm)


@handlers.step(CANCEL_PICK)
def cancel_pick(turn: Turn) -> Reply:
    return _pick_step(turn, CANCEL_PICK, _cancel_ask_confirm)


@handlers.step(CANCEL_CONFIRM, keeps=("affirm", "deny", "cancel_appointment"))
def cancel_confirm(turn: Turn) -> Reply:
    answer = turn.yes_no()
    if answer is None and turn.parse.intent == "cancel_appointment" and turn.parse.confidence >= SWITCH_CONFIDENCE:
        answer = True  # "yes cancel it"
    appointment = own_appointment(turn, turn.data.get("reference"))
    if answer is None:
        return turn.ask(CANCEL_CONFIRM, "appt_yes_no", yes_no(turn, "appt_cancel_yes", "appt_cancel_no"))
    turn.finish()
    if appointment is None:
        return with_menu(turn, "appt_none")
    if not answer:
        return with_menu(turn, "appt_not_cancelled", reference=appointment.reference)
    service.cancel(turn.session, appointment, turn.now)
    return turn.reply("appt_cancelled", reference=appointment.reference)
