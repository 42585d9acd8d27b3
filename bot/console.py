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

from bot.core import Assistant
from bot.types import InboundMessage, Reply
from dealerbot.bootstrap import App
from nlu.client import NluClient


def render(reply: Reply) -> str:
    lines = [reply.text]
    lines.extend(f"  {index}. {option.label}" for index, option in enumerate(reply.options, start=1))
    lines.extend(f"  [{a.title or a.kind}] {a.url}" for a in reply.attachments)
    return "\n".join(lines)


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
    return asyncio.run(_converse(app, phone, as_json, source, out, nlu))


async def _converse(
    app: App, phone: str, as_json: bool, source: Iterable[str], out: TextIO, nlu: NluClient | None
) -> int:
    client = nlu or NluClient(app.settings.rasa_url)
    assistant = Assistant(app, client)
    try:
        for raw in source:
            said = raw.rstrip("\r\n")
            if not said.strip():
                continue
            replies = await assistant.handle(InboundMessage(channel="console", sender=phone, text=said))
            for reply in replies:
                print(reply.as_json() if as_json else render(reply), file=out, flush=True)
    finally:
        if nlu is None:
            await client.aclose()
    return 0


def _prompted() -> Iterable[str]:
    while True:
        try:
            yield input("you> ")
        except EOFError:
            return
