"""Which handler answers which intent, and which handler continues which step of a flow.

`DOMAINS` is the one list of domain modules the core reads; each declares its `handlers`
(actions.kit.flows.Handlers). Adding a domain means adding it here.
"""

from __future__ import annotations

from types import ModuleType

from actions import branches, consent, handoff, roadside
from actions import appointments, complaints, feedback, general, warranty
from actions import history, maintenance, mileage, recalls
from actions import finance, leads, parts, tradein
from actions import advice
from actions.kit.flows import Handler, StepHandler

DOMAINS: tuple[ModuleType, ...] = (
    general,
    appointments,
    warranty,
    complaints,
    feedback,
    maintenance,
    history,
    recalls,
    mileage,
    leads,
    tradein,
    finance,
    parts,
    branches,
    roadside,
    handoff,
    consent,
    advice,
)


def _collect() -> tuple[dict[str, Handler], dict[tuple[str, str], StepHandler]]:
    intents: dict[str, Handler] = {}
    steps: dict[tuple[str, str], StepHandler] = {}
    for domain in DOMAINS:
        for name, handler in domain.handlers.intents.items():
            if name in intents:
                raise ValueError(f"intent {name!r} has handlers in two domains ({domain.__name__})")
            intents[name] = handler
        for key, step in domain.handlers.steps.items():
            if key in steps:
                raise ValueError(f"step {key} has handlers in two domains ({domain.__name__})")
            steps[key] = step
    return intents, steps


INTENTS, STEPS = _collect()

# What answers a message while staff have the conversation (kept for them; the customer is told when a
# person answers, or takes it back).
WHILE_HELD = handoff.while_held
