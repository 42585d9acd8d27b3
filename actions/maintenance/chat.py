"""maintenance_due: which car, then when its next service is due, with the offer to book it."""

from __future__ import annotations

from actions.kit import vehicles
from actions.kit.flows import Flow, Handlers
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from actions.maintenance.service import due_message, next_service
from actions.mileage.chat import mileage_in
from actions.mileage.rules import states_reading
from db.models import Vehicle
from dealerbot.logging import get_logger

log = get_logger("actions.maintenance")

DUE = Flow("maintenance_due")
DUE_VEHICLE = DUE.step("vehicle")

handlers = Handlers()


@handlers.intent("maintenance_due")
def maintenance_due(turn: Turn) -> Reply | list[Reply]:
    if turn.hints.get("after") == "reading":
        vehicle = vehicles.by_id(turn.vehicles(), turn.hints.get("vehicle"))
        if vehicle is not None:
            return _after_reading(turn, vehicle)
    said_km = mileage_in(turn) if turn.customer is not None else None
    if said_km is not None and states_reading(turn.said):
        # "Odometer says 118,400 km, when is my next service?": the reading is stored (with the checks
        # of report_mileage, which then tells the next service from it).
        return turn.answer_as("report_mileage")
    # Otherwise a km is a hypothetical ("what is due at 60k?"): used for the answer, not stored.
    turn.data = {"said_km": said_km}
    return vehicles.start(turn, DUE_VEHICLE, "veh_ask_vehicle_due", _answer)


@handlers.step(DUE_VEHICLE, keeps=("maintenance_due",))
def maintenance_due_vehicle(turn: Turn) -> Reply | list[Reply]:
    return vehicles.step(turn, DUE_VEHICLE, _answer)


def _answer(turn: Turn, chosen: list[Vehicle]) -> Reply:
    vehicle = chosen[0]
    due = next_service(turn.session, vehicle, turn.local_now.date(), turn.tz)
    lines = due_message(due, turn.language, said_km=turn.data.get("said_km"))
    log.info("maintenance_due_told", vehicle_id=vehicle.id, overdue=due.overdue)
    options = [turn.intent_option("book_service", "menu_book_service", vehicle=vehicle.id),
               turn.intent_option("report_mileage", "veh_report_mileage", vehicle=vehicle.id)]
    return _done(turn, lines, options)


def _after_reading(turn: Turn, vehicle: Vehicle) -> Reply:
    """report_mileage stored (or already had) a reading of the car: the recomputed next service, without
    the history, and the offer to book it (report_mileage puts its own line first)."""
    due = next_service(turn.session, vehicle, turn.local_now.date(), turn.tz)
    lines = due_message(due, turn.language, with_history=False)
    return _done(turn, lines, [turn.intent_option("book_service", "menu_book_service", vehicle=vehicle.id)])


def _done(turn: Turn, lines: list[str], options: list[Option]) -> Reply:
    """End the flow and answer; the options stay selectable next turn (a number or their words)."""
    turn.finish()
    if options:
        turn.offer(options)
    return Reply("\n".join(lines), list(options))
