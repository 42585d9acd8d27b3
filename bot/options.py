"""Channel-neutral choices: a button's payload, the option's number or its words select the same option."""

from __future__ import annotations

import hashlib
import re

from actions.kit.normalise import ascii_digits
from actions.kit.types import Option



def _norm(text: str) -> str:
    text = ascii_digits(text).lower()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


MAX_PAYLOAD_BYTES = 64  # Telegram's limit for a button's callback data


def payload_of(option: Option) -> str:
    """What a button carries for an option: its id, or a digest of it when the id is too long."""
    if len(option.id.encode()) <= MAX_PAYLOAD_BYTES:
        return option.id
    return "h:" + hashlib.blake2b(option.id.encode(), digest_size=16).hexdigest()


def select(options: list[Option], text: str | None, payload: str | None = None) -> Option | None:
    """The option the customer picked, or None when the message picks none of them."""
    if not options:
        return None
    if payload is not None:
        return next((o for o in options if o.id == payload or payload_of(o) == payload), None)
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
