"""Which handler answers which intent, and which handler continues which step of a flow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.types import Reply
from actions.turn import Turn

Handler = Callable[[Turn], Reply | list[Reply]]

# Intents that, said clearly, leave an unfinished flow: a new request wins over the old question.
TASK_INTENTS = frozenset(
    {
        "book_service", "reschedule_appointment", "cancel_appointment", "check_appointment",
        "warranty_coverage", "warranty_claim", "complaint", "case_status", "maintenance_due",
        "service_history", "recall_check", "trade_in", "finance", "roadside_assistance", "parts_order",
        "dealership_info", "human_agent", "feedback", "stop_notifications", "report_mileage",
    }
)
# Intents that leave any flow, even a step waiting for free text: someone stuck on the road.
URGENT_INTENTS = frozenset({"roadside_assistance"})
SWITCH_CONFIDENCE = 0.75


@dataclass(frozen=True)
class StepHandler:
    handle: Handler
    # Intents that, said clearly in this step, do not leave the flow (e.g. affirm/deny at a confirmation).
    keeps: frozenset[str] = frozenset()


INTENTS: dict[str, Handler] = {}
STEPS: dict[tuple[str, str], StepHandler] = {}


def intent(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            if name in INTENTS:
                raise ValueError(f"intent {name!r} has two handlers")
            INTENTS[name] = handler
        return handler

    return register


def step(flow: str, name: str, keeps: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if (flow, name) in STEPS:
            raise ValueError(f"step {flow}.{name} has two handlers")
        STEPS[(flow, name)] = StepHandler(handler, frozenset(keeps))
        return handler

    return register
