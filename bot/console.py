"""The terminal chat: talk to the assistant as a customer, interactively or one message per line.

Until the NLU and conversation core land this is the minimal chat of the foundation: it identifies the
customer by phone from the database and greets them by name in their language.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.messages import text
from db.models import Customer
from db.validation import has_arabic_script
from dealerbot.bootstrap import App

_GOODBYES = {"bye", "goodbye", "exit", "quit", "مع السلامة", "باي"}


@dataclass
class Reply:
    text: str
    options: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps({"text": self.text, "options": self.options}, ensure_ascii=False)


def _reply_to(session: Session, phone: str, message: str, first: bool) -> tuple[Reply, bool]:
    customer = session.scalar(
        select(Customer).where(Customer.phone == phone).options(selectinload(Customer.vehicles))
    )
    language = "ar" if has_arabic_script(message) else (customer.preferred_language if customer else "en")
    if message.strip().lower() in _GOODBYES:
        return Reply(text("goodbye", language)), True
    if not first:
        return Reply(text("not_understood_yet", language)), False
    if customer is None:
        return Reply(text("greet_unknown", language)), False
    lines = [text("greet_known", language, name=customer.name)]
    if customer.vehicles:
        vehicles = ", ".join(f"{v.year} {v.make} {v.model} ({v.plate or v.vin})" for v in customer.vehicles)
        lines.append(text("vehicles_on_file", language, vehicles=vehicles))
    return Reply("\n".join(lines)), False


def run_chat(app: App, phone: str, as_json: bool, lines: Iterable[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    interactive = lines is None and sys.stdin.isatty()
    source: Iterable[str] = lines if lines is not None else _prompted() if interactive else sys.stdin
    first = True
    for raw in source:
        message = raw.rstrip("\r\n")
        if not message.strip():
            continue
        with app.transaction() as session:
            reply, done = _reply_to(session, phone, message, first)
        first = False
        print(reply.as_json() if as_json else reply.text, file=out, flush=True)
        if done:
            break
    return 0


def _prompted() -> Iterable[str]:
    while True:
        try:
            yield input("you> ")
        except EOFError:
            return
