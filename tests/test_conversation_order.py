"""Turns of one conversation run one at a time and in order; different customers run side by side.

Customers send bursts ("hi" / "I want to book" / "for the patrol" within a second). The core takes a
FIFO lock per conversation before anything awaits, runs the database turn in a worker thread, and on
PostgreSQL holds an advisory lock on the conversation for the turn's transaction, so even two app
instances never read the same conversation state at once.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import pytest
from sqlalchemy import select, text as sql

from bot.core import conversation_key
from actions.kit.types import InboundMessage
from db.models import ChannelIdentity, ChatMessage
from dealerbot.bootstrap import App, compose
from nlu.client import Parse
from tests.fakes import FakeNlu

AHMED = "+971501234567"
FATIMA = "+971552345678"
BURST = ["hello", "I want to book", "for the patrol", "tomorrow morning", "thanks"]


@dataclass
class JitteryNlu(FakeNlu):
    """Answers after a random delay, so later messages of a burst would overtake earlier ones if
    nothing kept them in order."""

    seed: int = 7

    async def parse(self, text: str) -> Parse:
        await asyncio.sleep(random.Random(f"{self.seed}{text}").uniform(0.0, 0.05))
        return await super().parse(text)


def transcript(app: App, sender: str) -> list[tuple[str, str]]:
    with app.transaction() as s:
        identity = s.scalar(select(ChannelIdentity).where(ChannelIdentity.external_id == sender))
        rows = s.scalars(
            select(ChatMessage).where(ChatMessage.channel_identity_id == identity.id).order_by(ChatMessage.id)
        )
        return [(m.direction, m.text) for m in rows]


def message(text: str, sender: str = AHMED) -> InboundMessage:
    return InboundMessage(channel="whatsapp", sender=sender, phone=sender, text=text)


def test_five_messages_sent_at_once_are_answered_in_order_and_none_is_lost(live_app):
    services = compose(live_app, nlu=JitteryNlu(), channels=[])

    async def burst() -> list[list[str]]:
        answers = await asyncio.gather(*(services.assistant.handle(message(said)) for said in BURST))
        return [[r.text for r in replies] for replies in answers]

    answers = asyncio.run(burst())
    assert all(answers), "every message got an answer"
    said = transcript(live_app, AHMED)
    # in, its answer(s), next in, ...: no turn overlapped another, and the order is the order sent.
    assert [text for direction, text in said if direction == "in"] == BURST
    turns: list[list[str]] = []
    for direction, text in said:
        if direction == "in":
            turns.append([])
        else:
            turns[-1].append(text)
    assert turns == answers


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_turn_waits_for_another_instances_turn_of_the_same_conversation_and_others_go_on(live_app):
    services = compose(live_app, nlu=FakeNlu(), channels=[])
    # Somebody (another instance) is in the middle of a turn of Ahmed's conversation.
    holder = live_app.engine.connect()
    holder.execute(sql("SELECT pg_advisory_lock(:k)"), {"k": conversation_key("whatsapp", AHMED)})

    async def scenario() -> tuple[bool, list[str], list[str]]:
        ahmed = asyncio.create_task(services.assistant.handle(message("hello")))
        fatima = await asyncio.wait_for(services.assistant.handle(message("hello", FATIMA)), timeout=20)
        await asyncio.sleep(0.5)  # long enough for a turn that does not wait (a few ms here)
        waiting = not ahmed.done()
        holder.execute(sql("SELECT pg_advisory_unlock(:k)"), {"k": conversation_key("whatsapp", AHMED)})
        holder.commit()
        ahmed_replies = await asyncio.wait_for(ahmed, timeout=20)
        return waiting, [r.text for r in fatima], [r.text for r in ahmed_replies]

    try:
        waiting, fatima, ahmed = asyncio.run(scenario())
    finally:
        holder.close()
    assert waiting, "Ahmed's turn waited for the other instance's turn"
    assert fatima and ahmed, "both customers were answered"
