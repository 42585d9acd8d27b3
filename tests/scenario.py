"""Scripted conversations for scenario tests: say something as a customer, read the replies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core import Assistant
from actions.kit.types import InboundMessage, Media, Reply
from dealerbot.bootstrap import App
from nlu.client import NluClient


def assistant_for(app: App, nlu: NluClient) -> Assistant:
    """The core on a test app (the rolled-back demo database, the fixed clock)."""
    return Assistant(transaction=app.transaction, settings=app.settings, clock=app.clock, nlu=nlu)


@dataclass
class Conversation:
    app: App
    # Makes the NLU for one turn: the fast tier's TableNlu, or a real NluClient (made per turn, because its
    # HTTP client belongs to the event loop of that turn).
    nlu: Callable[[], Any]
    sender: str
    channel: str = "console"
    history: list[tuple[str, list[Reply]]] = field(default_factory=list)

    def say(self, text: str = "", payload: str | None = None, media: tuple[Media, ...] = (), **extra: Any) -> list[Reply]:
        """Send one message; returns the replies (empty when staff have the conversation)."""

        async def turn() -> list[Reply]:
            nlu = self.nlu()
            try:
                if self.channel in {"console", "whatsapp"}:
                    extra.setdefault("phone", self.sender)  # these channels vouch for the sender's number
                message = InboundMessage(
                    channel=self.channel,
                    sender=self.sender,
                    text=text,
                    payload=payload,
                    media=media,
                    received_at=self.app.clock.now(),
                    **extra,
                )
                return await assistant_for(self.app, nlu).handle(message)
            finally:
                await nlu.aclose()

        replies = asyncio.run(turn())
        self.history.append((text, replies))
        return replies

    def text(self, said: str = "", **kwargs: Any) -> str:
        """All reply texts of one message joined by newlines (with numbered option labels)."""
        replies = self.say(said, **kwargs)
        parts = []
        for reply in replies:
            parts.append(reply.text)
            parts.extend(f"{i}. {o.label}" for i, o in enumerate(reply.options, start=1))
        return "\n".join(parts)

    @property
    def last(self) -> Reply:
        return self.history[-1][1][-1]

    @property
    def options(self) -> list[str]:
        """The labels of the options offered last."""
        return [o.label for o in self.last.options]


def stated(app: App, table: dict[str, dict[str, Any]], phone: str, channel: str = "console") -> Conversation:
    """A Conversation whose NLU says what the test states (text → intent, confidence, ...): for situations
    the real model's answers move away from with every training (low confidences, a new intent)."""
    from tests.fakes import TableNlu

    nlu = TableNlu(table)
    return Conversation(app, lambda: nlu, phone, channel)
