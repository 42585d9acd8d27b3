"""report_mileage: which car, the reading (from the message or asked), a confirmation for an unusual one,
then the reading is stored and the next service, recomputed, is told by maintenance_due."""

from __future__ import annotations

from actions.kit import formats, vehicles
from actions.kit.flows import SWITCH_CONFIDENCE, Flow, Handlers
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from actions.mileage.rules import age_years, reading_in
from actions.mileage.service import check_reading, record_reading
from db.models import Vehicle
from dealerbot.logging import get_logger

log = get_logger("actions.mileage")

REPORT = Flow("report_mileage")
REPORT_VEHICLE = REPORT.step("vehicle")
REPORT_READING = REPORT.step("reading")
REPORT_CONFIRM = REPORT.step("confirm")

handlers = Handlers()


def mileage_in(turn: Turn) -> int | None:
    """The reading in the message: the NLU's `mileage` entity, else a number in the text (the customer's
    plates, and VINs, plates and ticket ids the NLU found, left out)."""
    masks = [e.text for e in turn.parse.entities if e.name in ("plate", "vin", "ticket_id")]
    masks += [v.plate for v in turn.vehicles() if v.plate]
    return reading_in(turn.message.text, turn.parse.values("mileage"), masks)


@handlers.intent("report_mileage")
def report_mileage(turn: Turn) -> Reply | list[Reply]:
    km = mileage_in(turn) if turn.customer is not None else None
    turn.data = {"km": km}
    return vehicles.start(turn, REPORT_VEHICLE, "veh_ask_vehicle_mileage", _for_vehicle)


@handlers.step(REPORT_VEHICLE, keeps=("report_mileage",))
def report_mileage_vehicle(turn: Turn) -> Reply | list[Reply]:
    return vehicles.step(turn, REPORT_VEHICLE, _for_vehicle)


def _for_vehicle(turn: Turn, chosen: list[Vehicle]) -> Reply | list[Reply]:
    vehicle = chosen[0]
    km = turn.data.get("km")
    if km is None:
        km = mileage_in(turn)
    if km is None:
        turn.data = {"vehicle_id": vehicle.id}
        return turn.ask(REPORT_READING, "veh_ask_km", vehicle=vehicles.label(vehicle))
    return _take_reading(turn, vehicle, int(km))


@handlers.step(REPORT_READING, keeps=("report_mileage", "maintenance_due"))
def report_mileage_reading(turn: Turn) -> Reply | list[Reply]:
    vehicle = vehicles.by_id(turn.vehicles(), turn.data.get("vehicle_id"))
    if vehicle is None:
        return turn.leave_and_answer()
    if turn.selected is not None and turn.selected.id.startswith("intent:"):
        return turn.leave_and_answer()
    km = mileage_in(turn)
    if km is None and turn.parse.intent == "maintenance_due" and turn.parse.confidence >= SWITCH_CONFIDENCE:
        return turn.leave_and_answer()  # "when is my next service?" instead of a reading
    if km is None:
        return turn.ask(REPORT_READING, "veh_km_again")
    return _take_reading(turn, vehicle, km)


@handlers.step(REPORT_CONFIRM, keeps=("report_mileage", "affirm", "deny"))
def report_mileage_confirm(turn: Turn) -> Reply | list[Reply]:
    vehicle = vehicles.by_id(turn.vehicles(), turn.data.get("vehicle_id"))
    pending = turn.data.get("pending_km")
    if vehicle is None or pending is None:
        return turn.leave_and_answer()
    answer = turn.yes_no()
    typed = mileage_in(turn) if turn.selected is None else None
    if typed is not None and typed != pending:
        return _take_reading(turn, vehicle, typed)  # a corrected reading, checked afresh
    if answer is True or typed == pending:
        log.info("mileage_unusual_confirmed", vehicle_id=vehicle.id)
        return _store(turn, vehicle, int(pending))
    if answer is False:
        turn.data = {"vehicle_id": vehicle.id}
        return turn.ask(REPORT_READING, "veh_km_ask_correct")
    return turn.ask(REPORT_CONFIRM, "veh_km_confirm_again", _confirm_options(turn), km=formats.number(pending))


def _confirm_options(turn: Turn) -> list[Option]:
    return [turn.option("yes", "veh_km_yes"), turn.option("no", "veh_km_no")]


def _take_reading(turn: Turn, vehicle: Vehicle, km: int) -> Reply | list[Reply]:
    today = turn.local_now.date()
    check = check_reading(turn.session, vehicle, km, today, turn.tz)
    label, number = vehicles.label(vehicle), formats.number
    last_on = check.last_on or today
    turn.data = {"vehicle_id": vehicle.id}
    if check.verdict == "backwards":
        log.info("mileage_refused_backwards", vehicle_id=vehicle.id)
        return turn.ask(REPORT_READING, "veh_km_backwards", km=number(km), last=number(check.last_km or 0),
                        date=formats.day(last_on, turn.language), vehicle=label)
    if check.verdict in ("jump", "age"):
        log.info("mileage_unusual", vehicle_id=vehicle.id, verdict=check.verdict)
        turn.remember(pending_km=km)
        if check.verdict == "jump":
            return turn.ask(REPORT_CONFIRM, "veh_km_jump", _confirm_options(turn), km=number(km),
                            delta=number(km - (check.last_km or 0)), last=number(check.last_km or 0),
                            date=formats.day(last_on, turn.language), count=(today - last_on).days)
        years = age_years(vehicle.year, today)
        return turn.ask(REPORT_CONFIRM, "veh_km_age", _confirm_options(turn), km=number(km),
                        per_year=number(int(round(km / years, -3))), year=vehicle.year)
    if check.verdict == "same":
        return _told(turn, vehicle, turn.t("veh_km_same", km=number(km), vehicle=label))
    return _store(turn, vehicle, km)


def _store(turn: Turn, vehicle: Vehicle, km: int) -> Reply | list[Reply]:
    record_reading(turn.session, turn.now, vehicle, km)
    return _told(turn, vehicle, turn.t("veh_km_saved", km=formats.number(km), vehicle=vehicles.label(vehicle)))


def _told(turn: Turn, vehicle: Vehicle, line: str) -> Reply | list[Reply]:
    """After a reading: `line`, then the next service recomputed — told by maintenance_due (the hint
    after=reading asks it for the short answer: no history, the offer to book)."""
    turn.finish()
    turn.selected = None
    turn.hints = {"vehicle": str(vehicle.id), "after": "reading"}
    answer = turn.answer_as("maintenance_due")
    first = answer[0] if isinstance(answer, list) else answer
    first.text = f"{line}\n{first.text}"
    return answer
