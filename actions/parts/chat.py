"""The `parts_order` intent and its flow: part → which car → OEM or aftermarket → a lead for the parts desk."""

from __future__ import annotations

from actions.kit.flows import Flow, Handlers
from actions.kit.normalise import norm
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from actions.leads.rules import valid_description
from actions.leads.steps import WhichCar, emergency, prefill_vehicle, submit_lead
from actions.parts.rules import PREFERENCES, preference
from actions.parts.service import names_a_part

PARTS = Flow("parts_order")
PARTS_PART = PARTS.step("part")
PARTS_PREFERENCE = PARTS.step("preference")

handlers = Handlers()


def _preference_options(turn: Turn) -> list[Option]:
    return [turn.option(f"preference:{p}", f"parts_preference_{p}") for p in PREFERENCES]


@handlers.intent("parts_order")
def parts_order(turn: Turn) -> Reply:
    said = turn.said
    turn.data = {}
    if names_a_part(turn.session, said):
        turn.remember(part=said[:500])
    prefill_vehicle(turn)
    preferred = preference(norm(said))
    if preferred is not None:
        turn.remember(preference=preferred)
    return parts_continue(turn)


def parts_continue(turn: Turn) -> Reply:
    """Ask what is still missing, else pass the order to the parts desk."""
    data = turn.data
    if "part" not in data:
        return turn.ask(PARTS_PART, "parts_ask_part", free_text=True)
    if "vehicle" not in data:
        return WHICH_CAR.ask(turn)
    if "preference" not in data:
        return turn.ask(PARTS_PREFERENCE, "parts_ask_preference", _preference_options(turn))
    details = {"part": data["part"], "vehicle": data["vehicle"], "preference": data["preference"]}
    submit_lead(turn, "parts_request", data.get("vehicle_id"), details)
    turn.finish()
    part = data["part"] if len(data["part"]) <= 120 else data["part"][:117] + "..."
    return turn.reply("parts_done", part=part, vehicle=data["vehicle"],
                      preference=turn.t(f"parts_pref_in_text_{data['preference']}"))


WHICH_CAR = WhichCar(PARTS, then=parts_continue)
WHICH_CAR.declare(handlers)


@handlers.step(PARTS_PART)
def parts_part_step(turn: Turn) -> Reply | list[Reply]:
    if (urgent := emergency(turn)) is not None:
        return urgent
    said = turn.said.strip()
    if not (valid_description(said) and names_a_part(turn.session, said)):
        return turn.ask(PARTS_PART, "parts_part_again", free_text=True)
    turn.remember(part=said[:500])
    if "preference" not in turn.data:
        preferred = preference(norm(said))
        if preferred is not None:
            turn.remember(preference=preferred)
    return parts_continue(turn)


@handlers.step(PARTS_PREFERENCE)
def parts_preference_step(turn: Turn) -> Reply:
    preferred = turn.picked("preference") or preference(norm(turn.said))
    if preferred not in PREFERENCES:
        return turn.ask(PARTS_PREFERENCE, "parts_preference_again", _preference_options(turn))
    turn.remember(preference=preferred)
    return parts_continue(turn)
