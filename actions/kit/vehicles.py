"""The customer's cars in a conversation: how a car is labelled, offered and recognised in a message.

Every domain's "which car?" step uses these, so a car is named the same way everywhere: by an offered
option, a hint a menu option carried, its VIN or plate, or its model or make (Latin or Arabic script),
when that picks exactly one of the customer's cars. `start` and `step` are the whole "which car?" start
and step of a flow (the car named, else asked; "not one of your cars"; "all my cars" on request).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from actions.kit import menu
from actions.kit.cars import colour_words, names_of, says_car
from actions.kit.normalise import ascii_digits, has_any, norm
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from db.models import Vehicle
from dealerbot.logging import get_logger

if TYPE_CHECKING:
    from actions.kit.flows import Step

PREFIX = "vehicle:"
ALL = "vehicle:all"  # the "all my cars" option of a step asked with_all
_VIN = re.compile(r"\b[A-HJ-NPR-Z0-9]{17}\b")


def label(vehicle: Vehicle) -> str:
    """"Toyota Land Cruiser 2021 (Dubai A 12345)"."""
    text = f"{vehicle.make} {vehicle.model} {vehicle.year}"
    return f"{text} ({vehicle.plate})" if vehicle.plate else text


def options(vehicles: Sequence[Vehicle]) -> list[Option]:
    """One option per car, its id "vehicle:<id>"; typed, any name of its make or model, or its colour, picks it."""
    return [
        Option(f"{PREFIX}{v.id}", label(v), (*names_of(v.make, v.model), *colour_words(v.colour))) for v in vehicles
    ]


def by_id(vehicles: Sequence[Vehicle], vehicle_id: object) -> Vehicle | None:
    return next((v for v in vehicles if str(v.id) == str(vehicle_id)), None)


def named(turn: Turn, vehicles: Sequence[Vehicle], text: str | None = None) -> Vehicle | None:
    """The one car of `vehicles` the message names (or a picked menu option carried as a hint), else None.
    `text`: an earlier message of the customer to read instead (its entities are not known)."""
    hinted = turn.hints.get("vehicle") if text is None else None
    if hinted is not None:
        return by_id(vehicles, hinted)
    said_raw = ascii_digits(turn.message.text if text is None else text)
    if not said_raw.strip() or not vehicles:
        return None
    said = norm(said_raw)
    compact = re.sub(r"[^a-z0-9]", "", said_raw.lower())
    vins = {vin.strip().upper() for vin in turn.parse.values("vin")} if text is None else set()
    plates = {norm(p) for p in turn.parse.values("plate")} if text is None else set()
    for vehicle in vehicles:
        if vehicle.vin.upper() in vins or vehicle.vin.lower() in compact:
            return vehicle
        plate = norm(vehicle.plate or "")
        digits = re.sub(r"\D", "", vehicle.plate or "")
        if plate and (plate in plates or re.search(rf"(?<!\w){re.escape(plate)}(?!\w)", said)):
            return vehicle
        if len(digits) >= 3 and re.search(rf"(?<!\d){digits}(?!\d)", said):
            return vehicle
    hits = [v for v in vehicles if says_car(said, v.make, v.model) or says_car(said, v.make)]
    if len(hits) == 1:
        return hits[0]
    by_model = [v for v in hits if says_car(said, v.make, v.model)]
    if len(by_model) == 1:
        return by_model[0]
    # "the white one", "البيضاء": a colour names a car when only one of them (or of the named ones) has it.
    by_colour = [v for v in (by_model or hits or vehicles) if has_any(said, colour_words(v.colour))]
    return by_colour[0] if len(by_colour) == 1 else None


def picked(turn: Turn, vehicles: Sequence[Vehicle]) -> Vehicle | None:
    """The car chosen at a "which car?" step: an offered option, else a car the message names."""
    chosen = turn.picked("vehicle")
    return by_id(vehicles, chosen) if chosen is not None else named(turn, vehicles)


def other_reference(turn: Turn) -> str | None:
    """A VIN or plate in the message, as written (to say it is not one of the customer's cars)."""
    refs = [*turn.parse.values("vin"), *turn.parse.values("plate")]
    found = _VIN.search(ascii_digits(turn.message.text).upper())
    if found:
        refs.append(found.group(0))
    return refs[0] if refs else None


# --- the shared "which car?" start and step of a flow ----------------------------------------------------

log = get_logger("actions.kit.vehicles")

# What a flow does once it knows the car(s): answers for them (one car, or every car for "all my cars").
Then = Callable[[Turn, list[Vehicle]], "Reply | list[Reply]"]


def _offered(turn: Turn, vehicles: Sequence[Vehicle], with_all: bool) -> list[Option]:
    offered = options(vehicles)
    if with_all and len(vehicles) > 1:
        offered.append(turn.option(ALL, "veh_all_cars"))
    return offered


def start(turn: Turn, step: Step, ask_key: str, then: Then, with_all: bool = False) -> Reply | list[Reply]:
    """Start a flow about the customer's car: the car the message names (or the only one) is answered at
    once by `then`; a VIN or plate that is not one of theirs is said so; otherwise `step` asks `ask_key`
    with the cars as options (and "all my cars" when `with_all`). Unknown senders and customers without a
    car get the shared answers."""
    if turn.customer is None:
        return menu.need_customer(turn)
    vehicles = turn.vehicles()
    if not vehicles:
        return menu.with_menu(turn, "no_vehicles")
    vehicle = named(turn, vehicles)
    if vehicle is not None:
        return then(turn, [vehicle])
    other = other_reference(turn)
    if other is not None:
        log.info("vehicle_not_found", flow=step.flow.name)
        return turn.ask(step, "veh_not_yours", _offered(turn, vehicles, with_all), ref=other)
    if len(vehicles) == 1:
        return then(turn, vehicles)
    return turn.ask(step, ask_key, _offered(turn, vehicles, with_all))


def step(turn: Turn, step: Step, then: Then, with_all: bool = False) -> Reply | list[Reply]:
    """The answer to the "which car?" `step` asked by `start`: an offered option (or "all my cars") or a
    car named in the text goes to `then`; anything else is asked again at the same step."""
    vehicles = turn.vehicles()
    if with_all and turn.selected is not None and turn.selected.id == ALL:
        return then(turn, vehicles)
    chosen = picked(turn, vehicles)
    if chosen is None:
        return turn.ask(step, "veh_choose_again", _offered(turn, vehicles, with_all))
    return then(turn, [chosen])
