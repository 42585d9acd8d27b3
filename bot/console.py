"""The terminal chat: talk to the assistant as a customer, interactively or one message per line.

`dealerbot chat --phone +971...` is the console channel of the same core as Telegram and WhatsApp. On a
terminal it prompts; otherwise it reads one customer message per line. With --json every reply is one
JSON object per line, `{"text": ..., "options": [{"id": ..., "label": ...}]}`; without it, options are
printed numbered, and a line that is an option's number or label selects it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from typing import TextIO

from bot.channels import ConsoleChannel, Recipient
from actions.kit.types import InboundMessage
from dealerbot.bootstrap import App, Services, compose
from nlu.client import NluClient


def run_chat(
    app: App,
    phone: str,
    as_json: bool,
    lines: Iterable[str] | None = None,
    out: TextIO | None = None,
    nlu: NluClient | None = None,
) -> int:
    out = out or sys.stdout
    interactive = lines is None and sys.stdin.isatty()
    source: Iterable[str] = lines if lines is not None else _prompted() if interactive else sys.stdin
    services = compose(app, nlu=nlu, channels=[])
    return asyncio.run(_converse(services, phone, source, ConsoleChannel(out=out, as_json=as_json), own_nlu=nlu is None))


async def _converse(services: Services, phone: str, source: Iterable[str], channel: ConsoleChannel, own_nlu: bool) -> int:
    # The terminal vouches for the number it was started with: it is the operator's tool.
    recipient = Recipient(channel="console", address=phone)
    try:
        for raw in source:
            said = raw.rstrip("\r\n")
            if not said.strip():
                continue
            message = InboundMessage(channel="console", sender=phone, phone=phone, text=said)
            for reply in await services.assistant.handle(message):
                await channel.send(recipient, reply)
    finally:
        if own_nlu:
            await services.nlu.aclose()
    return 0


def _prompted() -> Iterable[str]:
    while True:
        try:
            yield input("you> ")
        except EOFError:
            return
