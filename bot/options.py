"""Channel-neutral choices: a button's payload, the option's number or its words select the same option."""

from __future__ import annotations

import re

from bot.text import ascii_digits
from bot.types import Option



def _norm(text: str) -> str:
    text = ascii_digits(text).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def select(options: list[Option], text: str | None, payload: str | None = None) -> Option | None:
    """The option the customer picked, or None when the message picks none of them."""
    if not options:
        return None
    if payload is not None:
        return next((o for o in options if o.id == payload), None)
    if not text:
        return None
    said = _norm(text)
    if said.isdigit():
        index = int(said)
        return options[index - 1] if 1 <= index <= len(options) else None
    for option in options:
        if said == _norm(option.label) or said == _norm(option.id):
            return option
    return None
