"""The channel-neutral messages the core takes and gives: channels only translate to and from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Media:
    """A photo or document the customer sent; `url` is where the channel lets us fetch it."""

    url: str
    content_type: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    channel: str  # telegram | whatsapp | console
    sender: str  # the channel's id of the sender: Telegram user id, WhatsApp number, console phone
    text: str
    received_at: datetime
    payload: str | None = None  # the id of a button the customer pressed
    media: tuple[Media, ...] = ()
    phone: str | None = None  # a phone number the channel vouches for (WhatsApp, a shared contact)
    display_name: str | None = None


@dataclass(frozen=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True)
class Attachment:
    url: str
    title: str


@dataclass
class Reply:
    text: str
    options: list[Option] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"text": self.text, "options": [{"id": o.id, "label": o.label} for o in self.options]}
