"""What goes in and out of the core, whatever the channel: InboundMessage → Reply."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CHANNELS = ("console", "telegram", "whatsapp")


@dataclass(frozen=True)
class Media:
    """A photo or document the customer sent: the channel's URL or file id and its content type."""

    url: str
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    # The channel's id of the sender: the phone number (E.164) on WhatsApp and the terminal, the user id
    # on Telegram.
    sender: str
    text: str = ""
    received_at: datetime | None = None
    media: tuple[Media, ...] = ()
    # The id of the option a button carried (Telegram callback data); None for typed text.
    payload: str | None = None
    # A phone number the channel vouches for (WhatsApp sender, Telegram shared contact of the sender's own,
    # the terminal's --phone). Nothing else links a sender to a customer.
    phone: str | None = None
    display_name: str | None = None
    # The platform's id of this message (Telegram update_id, Twilio MessageSid): a redelivery is ignored.
    message_id: str | None = None
    # An intent a channel command asks for directly (Telegram /stop → stop_notifications); no NLU call.
    intent: str | None = None
    # The message is the sender sharing their own phone number (`phone`), nothing else.
    shared_contact: bool = False
    # The language the platform says the sender uses (Telegram's language_code): the first answer to a
    # sender we know nothing of is in it; what they write decides after that.
    language_hint: str | None = None


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    # Other words that name this option when the customer types instead of tapping (the label in the
    # other language, a branch's city, a car's Arabic name); never shown. See actions.kit.choice.
    words: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, **({"words": list(self.words)} if self.words else {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Option:
        return cls(str(data["id"]), str(data["label"]), tuple(str(w) for w in data.get("words") or ()))


@dataclass(frozen=True)
class Attachment:
    kind: str  # "link" | "location" | "document"
    url: str
    title: str = ""


@dataclass
class Reply:
    text: str
    options: list[Option] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "options": [{"id": o.id, "label": o.label} for o in self.options]}

    def as_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False)
