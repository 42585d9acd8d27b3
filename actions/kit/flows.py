"""How a domain declares what it answers: its intents, and the steps of its multi-turn flows.

A domain module builds one `Handlers` and declares its flows and steps as module constants, so the
type checker and "go to definition" follow them:

    BOOK = Flow("book_service")
    BOOK_SLOT = BOOK.step("slot")
    handlers = Handlers()

    @handlers.intent("book_service")
    def book_service(turn: Turn) -> Reply: ...

    @handlers.step(BOOK_SLOT, keeps=("affirm", "deny"))
    def book_slot(turn: Turn) -> Reply: ...

`actions.registry` lists the domain modules and reads their `handlers`; nothing registers itself
anywhere by being imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from actions.kit.turn import Turn
from actions.kit.types import Reply
from nlu.client import FALLBACK_INTENT, Parse

Handler = Callable[[Turn], Reply | list[Reply]]

# A new request said at least this clearly leaves an unfinished flow (and a flow step may use the same
# bar to tell a clear new request from an answer).
SWITCH_CONFIDENCE = 0.75
# Intents that, said clearly, leave an unfinished flow: a new request wins over the old question.
TASK_INTENTS = frozenset(
    {
        "book_service", "reschedule_appointment", "cancel_appointment", "check_appointment",
        "warranty_coverage", "warranty_claim", "complaint", "case_status", "maintenance_due",
        "service_history", "recall_check", "trade_in", "finance", "roadside_assistance", "parts_order",
        "dealership_info", "human_agent", "feedback", "stop_notifications", "report_mileage",
    }
)

# The model torn between two requests ("abgha filter el mokayaf lel patrol, mawjood?": parts_order 0.48,
# book_service 0.46): both at least TORN_EACH likely, together at least TORN_BOTH, and at most TORN_GAP
# apart: asked which one (the model's own ambiguity fallback only catches a gap of 0.02, which a retraining
# moves either side of).
TORN_EACH = 0.3
TORN_BOTH = 0.7
TORN_GAP = 0.05


def torn_between(parse: Parse) -> tuple[str, str] | None:
    """The two requests the model could not tell apart, when it was torn between two."""
    ranking = [(intent, p) for intent, p in parse.ranking if intent != FALLBACK_INTENT]  # Rasa puts it first
    if parse.degraded is not None or len(ranking) < 2:
        return None
    (first, p1), (second, p2) = ranking[:2]
    if {first, second} <= TASK_INTENTS and p2 >= TORN_EACH and p1 + p2 >= TORN_BOTH and p1 - p2 <= TORN_GAP:
        return first, second
    return None

# Intents that leave any flow, even a step waiting for free text: someone stuck on the road.
URGENT_INTENTS = frozenset({"roadside_assistance"})


@dataclass(frozen=True)
class Flow:
    """A multi-turn conversation of one domain ("book_service", "complaint"); stored by name."""

    name: str

    def step(self, name: str, follow_up: bool = False) -> Step:
        return Step(self, name, follow_up)


@dataclass(frozen=True)
class Step:
    """A question of a flow waiting for its answer; stored as (flow name, step name).

    A follow-up step comes after an answer that is complete in itself (the warranty's terms, a page of
    history) and only waits for optional follow-ups: a question asked in the middle of another flow may
    end at one, and that flow still goes on (bot.core's detour).
    """

    flow: Flow
    name: str
    follow_up: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.flow.name, self.name)


@dataclass(frozen=True)
class StepHandler:
    handle: Handler
    # Intents that, said clearly in this step, do not leave the flow (e.g. affirm/deny at a confirmation).
    keeps: frozenset[str] = frozenset()
    follow_up: bool = False  # see Step


@dataclass
class Handlers:
    """The intents and flow steps one domain answers."""

    intents: dict[str, Handler] = field(default_factory=dict)
    steps: dict[tuple[str, str], StepHandler] = field(default_factory=dict)

    def intent(self, *names: str) -> Callable[[Handler], Handler]:
        def declare(handler: Handler) -> Handler:
            for name in names:
                if name in self.intents:
                    raise ValueError(f"intent {name!r} has two handlers")
                self.intents[name] = handler
            return handler

        return declare

    def step(self, step: Step, keeps: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
        def declare(handler: Handler) -> Handler:
            if step.key in self.steps:
                raise ValueError(f"step {step.flow.name}.{step.name} has two handlers")
            self.steps[step.key] = StepHandler(handler, frozenset(keeps), step.follow_up)
            return handler

        return declare
