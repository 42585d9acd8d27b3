"""The appointments chat: the booking flow (chat_book) and the customer's own appointments — check,
reschedule, cancel (chat_manage) — as one set of handlers for the registry."""

from __future__ import annotations

from actions.appointments import chat_book, chat_manage, chat_work
from actions.kit.flows import Handlers


def merged(*parts: Handlers) -> Handlers:
    """One Handlers answering every intent and step of `parts` (each declared once)."""
    whole = Handlers()
    for part in parts:
        for name, handler in part.intents.items():
            if name in whole.intents:
                raise ValueError(f"intent {name!r} has two handlers")
            whole.intents[name] = handler
        for key, step in part.steps.items():
            if key in whole.steps:
                raise ValueError(f"step {key} has two handlers")
            whole.steps[key] = step
    return whole


handlers = merged(chat_book.handlers, chat_manage.handlers, chat_work.handlers)
