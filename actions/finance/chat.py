"""The `finance` intent and its flow: kind → details → (which car, if several) → a lead for the finance team."""

from __future__ import annotations

from actions.finance.rules import KINDS, finance_kind
from actions.kit.cars import car_in_text
from actions.kit.flows import Flow, Handlers
from actions.kit.normalise import norm
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from actions.kit.vehicles import named
from actions.leads.rules import valid_description
from actions.leads.steps import WhichCar, emergency, remember_vehicle, submit_lead

FINANCE = Flow("finance")
FINANCE_KIND = FINANCE.step("kind")
FINANCE_DETAILS = FINANCE.step("details")

handlers = Handlers()


def _kind_options(turn: Turn) -> list[Option]:
    return [turn.option(f"finance:{k}", f"finance_kind_{k}") for k in KINDS]


@handlers.intent("finance")
def finance(turn: Turn) -> Reply:
    said = turn.said
    turn.data = {}
    kind = finance_kind(norm(said))
    if kind is not None:
        turn.remember(kind=kind, request=said[:1000])
    own = named(turn, turn.vehicles())
    if own is not None:
        remember_vehicle(turn, own)
    else:
        make, _ = car_in_text(turn.session, said)
        if make and not any(v.make == make for v in turn.vehicles()):
            turn.remember(vehicle_id=None, vehicle=None)  # a car that is not theirs: the request says which
    return finance_continue(turn)


def finance_continue(turn: Turn) -> Reply:
    """Ask what is still missing, else pass the request to the finance team."""
    data = turn.data
    if "kind" not in data:
        return turn.ask(FINANCE_KIND, "finance_ask_kind", _kind_options(turn))
    if "request" not in data:
        return turn.ask(FINANCE_DETAILS, "finance_ask_details", free_text=True, detours=True)
    if "vehicle" not in data:
        vehicles = turn.vehicles()
        if len(vehicles) > 1:
            return WHICH_CAR.ask(turn)
        if vehicles:
            remember_vehicle(turn, vehicles[0])
        else:
            turn.remember(vehicle_id=None, vehicle=None)
        data = turn.data
    details = {"request": data["request"], "vehicle": data.get("vehicle")}
    submit_lead(turn, data["kind"], data.get("vehicle_id"), details)
    turn.finish()
    vehicle = turn.t("finance_for_vehicle", vehicle=data["vehicle"]) if data.get("vehicle") else ""
    return turn.reply("finance_done", kind=turn.t(f"finance_kind_{data['kind']}"), vehicle=vehicle)


# A finance request may be about none of the customer's cars; a car described in words is not taken.
WHICH_CAR = WhichCar(FINANCE, then=finance_continue, optional=True)
WHICH_CAR.declare(handlers)


@handlers.step(FINANCE_KIND)
def finance_kind_step(turn: Turn) -> Reply:
    kind = turn.picked("finance")
    if kind is None and (kind := finance_kind(norm(turn.said))) is not None:
        turn.remember(request=turn.said[:1000])
    if kind not in KINDS:
        return turn.ask(FINANCE_KIND, "leads_choose_again", _kind_options(turn))
    turn.remember(kind=kind)
    return finance_continue(turn)


@handlers.step(FINANCE_DETAILS)
def finance_details_step(turn: Turn) -> Reply | list[Reply]:
    if (urgent := emergency(turn)) is not None:
        return urgent
    said = turn.said.strip()
    if not valid_description(said):
        return turn.ask(FINANCE_DETAILS, "finance_details_again", free_text=True, detours=True)
    turn.remember(request=said[:1000])
    return finance_continue(turn)
