"""The chat pieces the three lead flows share: "which car is it about?", a lead with its staff alert, a
breakdown reported in the middle of a question, and the yes/no options.

Each flow declares its own `WhichCar` with the function that carries the flow on once the car is known,
and lets it declare the two steps on the flow's handlers:

    TRADE = Flow("trade_in")
    ...
    WHICH_CAR = WhichCar(TRADE, then=trade_continue)
    WHICH_CAR.declare(handlers)          # steps trade_in.vehicle and trade_in.vehicle_text
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actions.kit.cars import car_in_text
from actions.kit.flows import SWITCH_CONFIDENCE, Flow, Handlers, Step
from actions.kit.normalise import norm
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from actions.kit.vehicles import label, named, options, picked
from actions.leads.rules import car_description, valid_description, year_in
from actions.leads.service import alert_of, create_lead, log
from db.models import Lead, Vehicle

OTHER = "vehicle:other"
ROADSIDE_FLOW = "roadside"


def emergency(turn: Turn) -> Reply | list[Reply] | None:
    """A breakdown reported in the middle of a free-text step: the emergency wins over the open question."""
    if (
        turn.parse.intent == "roadside_assistance"
        and turn.parse.confidence >= SWITCH_CONFIDENCE
        and turn.flow != ROADSIDE_FLOW
    ):
        log.info("flow_left_for_emergency", flow=turn.flow, step=turn.step)
        turn.finish()
        return turn.answer_as("roadside_assistance")
    return None


def submit_lead(turn: Turn, kind: str, vehicle_id: int | None, details: dict[str, Any]) -> Lead:
    """The lead of this conversation (the customer's, or an unknown sender's channel identity's), and its
    alert to the team of its kind."""
    lead = create_lead(
        turn.session,
        turn.now,
        turn.customer.id if turn.customer else None,
        kind,
        vehicle_id,
        {**details, "language": turn.language, "channel": turn.identity.channel},
        channel_identity_id=turn.identity.id,
    )
    alert = alert_of(lead)
    turn.alert_staff(alert.kind, alert.key, alert.payload, recipient=alert.recipient)
    return lead


def yes_no_options(turn: Turn) -> list[Option]:
    return [turn.option("yes", "leads_yes"), turn.option("no", "leads_no")]


def remember_vehicle(turn: Turn, vehicle: Vehicle) -> None:
    turn.remember(vehicle_id=vehicle.id, vehicle=label(vehicle))


def prefill_vehicle(turn: Turn) -> None:
    """Take the car from the first message: the customer's own (VIN, plate, model) or a described one."""
    own = named(turn, turn.vehicles())
    if own is not None:
        remember_vehicle(turn, own)
        return
    said = turn.message.text or ""
    make, model = car_in_text(turn.session, said)
    if make and not (model is None and any(v.make == make for v in turn.vehicles())):
        turn.remember(vehicle_id=None, vehicle=car_description(make, model, year_in(said)))


@dataclass(frozen=True)
class WhichCar:
    """The "which car is it about?" question of one flow, and the function that carries the flow on once
    the car is known (it finds `vehicle_id` and `vehicle`, a label or a description, in the flow data).

    A known customer picks one of their cars or "another car" (then describes it); an unknown sender
    describes the car. With `optional` (finance) the request may be about no car: "another car" means none,
    and a car only described in words is not taken.
    """

    flow: Flow
    then: Callable[[Turn], Reply]
    optional: bool = False

    @property
    def vehicle(self) -> Step:
        return self.flow.step("vehicle")

    @property
    def vehicle_text(self) -> Step:
        return self.flow.step("vehicle_text")

    def declare(self, handlers: Handlers) -> None:
        handlers.step(self.vehicle)(self.vehicle_step)
        handlers.step(self.vehicle_text)(self.vehicle_text_step)

    def ask(self, turn: Turn, again: bool = False) -> Reply:
        vehicles = turn.vehicles()
        if not vehicles:
            key = "leads_vehicle_text_again" if again else "leads_ask_vehicle_text"
            return turn.ask(self.vehicle_text, key, free_text=True)
        other = "leads_vehicle_none" if self.optional else "leads_vehicle_other"
        choices = [*options(vehicles), turn.option(OTHER, other)]
        return turn.ask(self.vehicle, "leads_vehicle_again" if again else "leads_ask_vehicle", choices)

    def vehicle_step(self, turn: Turn) -> Reply:
        chosen = turn.selected
        if chosen is not None and chosen.id == OTHER:
            if self.optional:
                turn.remember(vehicle_id=None, vehicle=None)
                return self.then(turn)
            return turn.ask(self.vehicle_text, "leads_ask_vehicle_text", free_text=True)
        vehicle = picked(turn, turn.vehicles())
        if vehicle is not None:
            remember_vehicle(turn, vehicle)
            return self.then(turn)
        if chosen is None and not self.optional:
            make, _ = car_in_text(turn.session, turn.message.text or "")
            if make:
                turn.remember(vehicle_id=None, vehicle=(turn.message.text or "").strip()[:200])
                return self.then(turn)
        return self.ask(turn, again=True)

    def vehicle_text_step(self, turn: Turn) -> Reply | list[Reply]:
        if (urgent := emergency(turn)) is not None:
            return urgent
        said = (turn.message.text or "").strip()
        make, _ = car_in_text(turn.session, said)
        if make or (valid_description(said) and len(norm(said).split()) >= 2):
            turn.remember(vehicle_id=None, vehicle=said[:200])
            return self.then(turn)
        return turn.ask(self.vehicle_text, "leads_vehicle_text_again", free_text=True)
