"""The book_service flow: vehicle (skipped if only one, or named) → service type (price and duration) →
branch → time (free slots; free text such as "tomorrow after 6" or "باجر العصر") → extras (courtesy
car, pick-up/drop-off, mobile service at an address, express lane) → confirm → booking reference.
What the first message already said (car, service type, branch, a time) is not asked again."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from actions.appointments import rules, service, slots
from actions.appointments.chat_common import (
    extras_text, name_of, need, offer_slots, own_vehicle, slot_step, when_label, with_open_recalls, yes_no,
)
from actions.branches.rules import branch_named
from actions.history.rules import asks_predelivery
from actions.handoff.service import customer_branch
from actions.kit import formats, vehicles
from actions.kit.choice import CERTAIN, most_named, named_in
from actions.kit.flows import Flow, Handlers
from actions.kit.menu import need_customer, with_menu
from actions.kit.normalise import norm
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from actions.kit.when import parse_when
from actions.recalls.service import open_recalls, recall_work
from db.models import Branch, Recall, ServiceType, Vehicle

BOOK = Flow("book_service")
BOOK_VEHICLE = BOOK.step("vehicle")
BOOK_SERVICE = BOOK.step("service")
BOOK_BRANCH = BOOK.step("branch")
BOOK_SLOT = BOOK.step("slot")
BOOK_EXTRAS = BOOK.step("extras")
BOOK_ADDRESS = BOOK.step("address")
BOOK_CONFIRM = BOOK.step("confirm")

handlers = Handlers()


def _service(turn: Turn) -> ServiceType:
    kind = service.service_by_code(turn.session, turn.data.get("service"))
    assert kind is not None
    return kind


def _branch(turn: Turn) -> Branch:
    branch = service.branch_by_code(turn.session, turn.data.get("branch"))
    assert branch is not None
    return branch


def _slot(turn: Turn) -> datetime:
    at = rules.slot_at(turn.data.get("slot") or "", turn.tz)
    assert at is not None
    return at


@handlers.intent("book_service")
def book_service(turn: Turn) -> Reply | list[Reply]:
    if turn.customer is None:
        return need_customer(turn)
    if asks_predelivery(turn.said) and not turn.hints:
        # "what did your check find before I took the car?" names an inspection but books none: the report.
        return turn.answer_as("service_history")
    cars = turn.vehicles()
    if not cars:
        return with_menu(turn, "no_vehicles")
    turn.data = {}
    recall = _recall_hinted(turn, cars)
    if recall is not None:
        return _book_recall(turn, *recall)
    prefill: dict[str, Any] = {"extras": {}, **_facts(turn, cars)}
    if "vehicle_id" not in prefill and len(cars) == 1:
        prefill["vehicle_id"] = cars[0].id
    wanted = rules.extras_named(turn.said)
    if wanted:
        prefill["wanted_extras"] = wanted  # taken once the service, branch and time say they are possible
    turn.remember(**prefill)
    return _advance(turn)


def _facts(turn: Turn, cars: list[Vehicle]) -> dict[str, Any]:
    """What a message says of a booking: the car named (or carried by a picked option), the service (the
    NLU's entity, else the one bookable service the dealership's words name), the branch, a day and time."""
    facts: dict[str, Any] = {}
    car = vehicles.named(turn, cars)
    if car is not None:
        facts["vehicle_id"] = car.id
    code = turn.hints.get("service") or next(iter(turn.parse.values("service_type")), None)
    if service.service_by_code(turn.session, code) is None:
        # No entity, or words the synonyms do not map ("ghayar zait"): the dealership's words for services.
        named = most_named(turn.said, [f"service:{s.code}" for s in service.services(turn.session)])
        code = named.removeprefix("service:") if named else None
    if service.service_by_code(turn.session, code) is not None:
        facts["service"] = code
    branch = next(iter(turn.parse.values("branch")), None)
    if service.branch_by_code(turn.session, branch) is not None:
        facts["branch"] = branch
    else:  # "in dubai", "بفرع الشارقة", "mussafah": the branch's city, name or an area it serves
        named_branch = branch_named(service.branches(turn.session), _without_plates(turn))
        if named_branch is not None:
            facts["branch"] = named_branch.code
    when = parse_when(turn.said, turn.local_now)
    if when is not None:
        facts["when"] = rules.when_data(when)
    return facts


def _without_plates(turn: Turn) -> str:
    """The message without the customer's plates ("Dubai A 12345" names a car, not the Dubai branch)."""
    said = turn.said
    for vehicle in turn.vehicles():
        if vehicle.plate:
            said = re.sub(re.escape(vehicle.plate), " ", said, flags=re.IGNORECASE)
    return said


def _recall_hinted(turn: Turn, cars: list[Vehicle]) -> tuple[Vehicle, Recall] | None:
    """The car and open recall a "book the recall work" option carried, when the recall is still open
    on that car of the customer's."""
    car = vehicles.by_id(cars, turn.hints.get("vehicle"))
    recall_id = turn.hints.get("recall")
    if car is None or not recall_id:
        return None
    return next(((car, r) for r in open_recalls(turn.session, car) if str(r.id) == recall_id), None)


def _book_recall(turn: Turn, car: Vehicle, recall: Recall) -> Reply:
    """A recall's free repair, in two turns: the customer's branch and the first free times at once (the
    remedy's own duration), and the time picked books it (free, nothing else to choose)."""
    work = recall_work(turn.session, recall)
    branch = customer_branch(turn.session, turn.customer)
    turn.remember(vehicle_id=car.id, service=work.code, recall=recall.id, extras={}, extras_done=True,
                  **({"branch": branch.code} if branch is not None else {}))
    return _advance(turn)


def _advance(turn: Turn) -> Reply:
    """Ask for the first thing the booking still lacks; confirm when nothing is missing (a recall's
    repair, free, is booked as soon as its time is picked). What could not be done of what the
    customer asked for up front (an extra the time does not allow) is said first."""
    reply = _next_question(turn)
    notes = turn.data.get("notes") if turn.state.flow else None
    if notes:
        reply.text = "\n".join([*notes, reply.text])
        turn.remember(notes=[])
    return reply


def _next_question(turn: Turn) -> Reply:
    data = turn.data
    vehicle = own_vehicle(turn, data.get("vehicle_id"))
    if vehicle is None:
        return turn.ask(BOOK_VEHICLE, "appt_ask_vehicle", vehicles.options(turn.vehicles()))
    kind = service.service_by_code(turn.session, data.get("service"))
    if kind is None:
        return _ask_service(turn, vehicle)
    branch = service.branch_by_code(turn.session, data.get("branch"))
    if branch is None:
        return _ask_branch(turn, kind)
    if "mobile" in (data.get("wanted_extras") or ()) and not data.get("extras", {}).get("mobile"):
        # Mobile service asked for up front: the times are the mobile team's, if the work and the branch
        # allow it; otherwise the customer is told and the car comes in.
        wanted = [name for name in data["wanted_extras"] if name != "mobile"]
        turn.remember(wanted_extras=wanted)
        if kind.mobile_eligible and branch.offers_mobile_service:
            turn.remember(extras={**data.get("extras", {}), "mobile": True})
        else:
            turn.remember(notes=[*data.get("notes", []), turn.t("appt_mobile_not_possible", service=name_of(turn, kind))])
        data = turn.data
    if not data.get("slot"):
        if data.get("recall"):
            return offer_slots(turn, BOOK_SLOT, branch, kind, vehicle.id, None, key="appt_recall_ask_slot",
                               vehicle=vehicles.label(vehicle), service=name_of(turn, kind),
                               hours=formats.number(round(kind.duration_minutes / 60, 1), turn.language))
        return offer_slots(turn, BOOK_SLOT, branch, kind, vehicle.id, rules.when_from(data.get("when")))
    if data.get("wanted_extras") is not None and not data.get("extras_done"):
        _take_wanted_extras(turn, branch, kind)
        data = turn.data
    extras = data.get("extras", {})
    if (extras.get("mobile") or extras.get("pickup")) and not extras.get("address"):
        return turn.ask(BOOK_ADDRESS, "appt_ask_address" if extras.get("mobile") else "appt_ask_pickup_address",
                        free_text=True)
    if not data.get("extras_done"):
        reply = _ask_extras(turn, branch, kind)
        if reply is not None:
            return reply
    if data.get("recall"):
        return _book(turn)
    return _ask_confirm(turn, vehicle, kind, branch)


def _ask_service(turn: Turn, vehicle: Vehicle) -> Reply:
    options = [
        Option(f"service:{s.code}", turn.t("appt_service_option", name=name_of(turn, s),
                                           price=formats.money(s.price_aed), minutes=s.duration_minutes),
               (s.name_en, s.name_ar))
        for s in service.services(turn.session)
    ]
    reply = turn.ask(BOOK_SERVICE, "appt_ask_service", options, vehicle=vehicles.label(vehicle))
    plan = service.active_plan(turn.session, vehicle.id, turn.local_now.date())
    if plan is not None:
        reply.text += "\n" + turn.t("appt_plan_note", plan=name_of(turn, plan), percent=plan.discount_percent)
    return reply


def _ask_branch(turn: Turn, kind: ServiceType) -> Reply:
    options = [Option(f"branch:{b.code}", name_of(turn, b), (b.name_en, b.name_ar, b.city_en, b.city_ar))
               for b in service.branches(turn.session)]
    return turn.ask(BOOK_BRANCH, "appt_ask_branch", options, service=name_of(turn, kind),
                    price=formats.money(kind.price_aed), minutes=kind.duration_minutes)


def _extra_options(turn: Turn, branch: Branch, kind: ServiceType, at: datetime) -> dict[str, Option]:
    offered = service.extras_offered(turn.session, branch, kind, at, turn.data.get("extras", {}))
    return {name: turn.option(f"extra:{name}", f"appt_extra_{name}", **({"count": left} if name == "courtesy" else {}))
            for name, left in offered.items()}


def _ask_extras(turn: Turn, branch: Branch, kind: ServiceType) -> Reply | None:
    at = _slot(turn)
    available = _extra_options(turn, branch, kind, at)
    chosen = turn.data.get("extras", {})
    if not available:
        turn.remember(extras_done=True)
        return None
    if any(chosen.get(name) for name in rules.EXTRAS):
        options = [*available.values(), turn.option("extras:done", "appt_extras_done")]
        return turn.ask(BOOK_EXTRAS, "appt_ask_more_extras", options, extras=extras_text(turn, chosen))
    options = [*available.values(), turn.option("extras:done", "appt_extras_none")]
    return turn.ask(BOOK_EXTRAS, "appt_ask_extras", options, when=when_label(turn, at))


def _take_wanted_extras(turn: Turn, branch: Branch, kind: ServiceType) -> None:
    """The extras the first message asked for, added if the chosen time allows them (the rest told);
    the customer is not asked about extras again."""
    data = turn.data
    available = service.extras_offered(turn.session, branch, kind, _slot(turn), data.get("extras", {}))
    chosen = dict(data.get("extras", {}))
    notes = list(data.get("notes", []))
    for name in data.get("wanted_extras", []):
        if name in available and name in rules.extras_offered(chosen, kind, branch, available.get(name, 0)):
            chosen[name] = True
        elif not chosen.get(name):
            notes.append(turn.t("appt_extra_not_possible", extra=turn.t(f"appt_name_{name}", address="")))
    turn.remember(extras=chosen, wanted_extras=None, extras_done=True, notes=notes)


def _ask_confirm(turn: Turn, vehicle: Vehicle, kind: ServiceType, branch: Branch) -> Reply:
    at = _slot(turn)
    plan = service.active_plan(turn.session, vehicle.id, at.date())
    cut = rules.discount(kind.price_aed, plan)
    extras = extras_text(turn, turn.data.get("extras", {}))
    return turn.ask(
        BOOK_CONFIRM, "appt_confirm", yes_no(turn),
        service=name_of(turn, kind), vehicle=vehicles.label(vehicle), branch=name_of(turn, branch),
        when=when_label(turn, at),
        extras=turn.t("appt_confirm_extras", extras=extras) if extras else "",
        price=formats.money(kind.price_aed),
        discount=turn.t("appt_confirm_discount", plan=name_of(turn, plan), discount=formats.money(cut),
                        total=formats.money(kind.price_aed - cut)) if plan and cut else "",
    )


@handlers.step(BOOK_VEHICLE)
def book_vehicle(turn: Turn) -> Reply:
    cars = turn.vehicles()
    vehicle = vehicles.picked(turn, cars)
    if vehicle is not None:
        turn.remember(vehicle_id=vehicle.id)
        return _advance(turn)
    return turn.ask(BOOK_VEHICLE, "appt_ask_vehicle", vehicles.options(cars))


@handlers.step(BOOK_SERVICE)
def book_service_type(turn: Turn) -> Reply:
    code = turn.picked("service")
    if code is None and turn.parse.values("service_type"):
        code = turn.parse.values("service_type")[0]
    if service.service_by_code(turn.session, code) is not None:
        turn.remember(service=code)
        return _advance(turn)
    vehicle = own_vehicle(turn, turn.data.get("vehicle_id"))
    assert vehicle is not None
    reply = _ask_service(turn, vehicle)
    reply.text = turn.t("appt_pick_again") + "\n" + reply.text
    return reply


@handlers.step(BOOK_BRANCH, keeps=("dealership_info",))
def book_branch(turn: Turn) -> Reply:
    code = turn.picked("branch")
    if code is None and turn.parse.values("branch"):
        code = turn.parse.values("branch")[0]
    if service.branch_by_code(turn.session, code) is not None:
        turn.remember(branch=code)
        return _advance(turn)
    reply = _ask_branch(turn, _service(turn))
    reply.text = turn.t("appt_pick_again") + "\n" + reply.text
    return reply


@handlers.step(BOOK_SLOT)
def book_slot(turn: Turn) -> Reply:
    data = turn.data

    def picked(at: datetime) -> Reply:
        turn.remember(slot=rules.slot_id(at, turn.tz), extras_done=bool(data.get("recall")),
                      extras={k: v for k, v in data.get("extras", {}).items() if k in {"mobile", "address"}})
        return _advance(turn)

    return slot_step(turn, BOOK_SLOT, _branch(turn), _service(turn), data["vehicle_id"], data.get("extras", {}),
                     None, picked)


@handlers.step(BOOK_EXTRAS)
def book_extras(turn: Turn) -> Reply:
    data = turn.data
    branch, kind, at = _branch(turn), _service(turn), _slot(turn)
    choice = turn.selected.id if turn.selected is not None else None
    done_words = {norm(turn.t(k)) for k in ("appt_extras_done", "appt_extras_none")}
    said = norm(turn.message.text)
    # "no just the service", "la bas el zait": a no that names no extra.
    declined = said.split()[:1] in (["no"], ["nope"], ["nah"], ["la"], ["لا"], ["laa"]) and (
        turn.selected_by not in CERTAIN  # a guess from some words ("service" of "Mobile service") is not a pick
    )
    if declined:
        choice = None
    if choice == "extras:done" or (choice is None and (turn.yes_no() is False or said in done_words or declined)):
        turn.remember(extras_done=True)
        return _advance(turn)
    available = _extra_options(turn, branch, kind, at)
    name = choice.split(":", 1)[1] if choice and choice.startswith("extra:") else None
    if name == "mobile" and "mobile" in available:
        return turn.ask(BOOK_ADDRESS, "appt_ask_address", free_text=True)
    if name == "pickup" and "pickup" in available:
        # The driver needs to know where to collect the car (and bring it back).
        turn.remember(extras={**data.get("extras", {}), "pickup": True})
        return turn.ask(BOOK_ADDRESS, "appt_ask_pickup_address", free_text=True)
    if name == "courtesy" and "courtesy" not in available:
        options = [*available.values(), turn.option("extras:done", "appt_extras_done")]
        return turn.ask(BOOK_EXTRAS, "appt_no_courtesy_left", options)
    if name in available:
        turn.remember(extras={**data.get("extras", {}), name: True})
        return _advance(turn)
    reply = _ask_extras(turn, branch, kind)
    if reply is None:
        return _advance(turn)
    reply.text = turn.t("appt_pick_again") + "\n" + reply.text
    return reply


@handlers.step(BOOK_ADDRESS)
def book_address(turn: Turn) -> Reply:
    """The address of a mobile service (where the technician comes) or of a pick-up (where the car is
    collected and brought back)."""
    address = rules.address(turn.message.text)
    data = turn.data
    pickup = bool(data.get("extras", {}).get("pickup")) and not data.get("extras", {}).get("mobile")
    if address is None:
        return turn.ask(BOOK_ADDRESS, "appt_address_short", free_text=True)
    if pickup:
        turn.remember(extras={**data.get("extras", {}), "address": address})
        return _advance(turn)
    branch, kind = _branch(turn), _service(turn)
    extras = {"mobile": True, "address": address}
    at = rules.slot_at(data["slot"], turn.tz)
    wish = need(turn, branch, kind, data["vehicle_id"], extras)
    turn.remember(extras=extras)
    if at is None or not slots.is_free(turn.session, wish, at, turn.now, turn.tz):
        turn.remember(slot=None)
        return offer_slots(turn, BOOK_SLOT, branch, kind, data["vehicle_id"], rules.around(at) if at else None,
                           key="appt_mobile_full", extras=extras)
    return _advance(turn)


def _correction(turn: Turn) -> dict[str, Any]:
    """What an answer to the confirmation changes ("actually make it Tuesday", "no, at the Sharjah
    branch", "the lexus instead"): the booking data to set; a new day, branch or service needs a new time."""
    data = turn.data
    # A day and time said again is a change even when it parses the same (the slot is chosen anew).
    changes = {k: v for k, v in _facts(turn, turn.vehicles()).items() if k == "when" or data.get(k) != v}
    if changes.keys() & {"service", "branch", "when"}:
        changes.update(slot=None, extras_done=False)
    return changes


@handlers.step(BOOK_CONFIRM, keeps=("affirm", "deny", "reschedule_appointment", "book_service"))
def book_confirm(turn: Turn) -> Reply:
    changes = _correction(turn) if turn.selected is None else {}
    if changes:
        # One part corrected: the rest stays, and what changed is asked for or confirmed again.
        turn.remember(**changes)
        return _advance(turn)
    answer = turn.yes_no()
    if answer is None:
        return turn.ask(BOOK_CONFIRM, "appt_yes_no", yes_no(turn))
    if not answer:
        turn.finish()
        return with_menu(turn, "appt_not_booked")
    return _book(turn)


def _book(turn: Turn) -> Reply:
    """Book what the flow gathered (a time taken meanwhile offers the times around it again)."""
    assert turn.customer is not None
    data = turn.data
    vehicle = own_vehicle(turn, data.get("vehicle_id"))
    branch, kind, at = _branch(turn), _service(turn), _slot(turn)
    assert vehicle is not None
    try:
        appointment = service.book_for(
            turn.session, turn.now, turn.local_now.date(), customer_id=turn.customer.id, vehicle_id=vehicle.id,
            service=kind, branch=branch, at=at, extras=data.get("extras", {}),
        )
    except service.SlotTaken:
        turn.remember(slot=None, extras_done=bool(data.get("recall")))
        return offer_slots(turn, BOOK_SLOT, branch, kind, vehicle.id, rules.around(at), key="appt_slot_gone",
                           when=when_label(turn, at))
    turn.finish()
    if appointment.mobile_service:
        turn.alert_staff(
            "mobile_service_booked", f"appointment-mobile:{appointment.reference}",
            {"reference": appointment.reference, "branch": branch.code, "starts_at": appointment.starts_at.isoformat(),
             "service": kind.code},
            recipient=f"branch:{branch.code}",
        )
        return with_open_recalls(turn, vehicle, turn.reply(
            "appt_booked_mobile", reference=appointment.reference, service=name_of(turn, kind),
            when=when_label(turn, at), address=appointment.service_address), bool(data.get("recall")))
    return with_open_recalls(turn, vehicle, turn.reply(
        "appt_booked", reference=appointment.reference, service=name_of(turn, kind), branch=name_of(turn, branch),
        when=when_label(turn, at), address=getattr(branch, f"address_{turn.language}", branch.address_en)),
        bool(data.get("recall")))
