"""Channels behind one small interface: `send(recipient, reply)`; Telegram, WhatsApp, the terminal, a fake.

The core answers inbound messages with Replies; a channel renders them for its platform (Telegram inline
buttons, WhatsApp numbered options, the terminal's numbered lines). Proactive messages (the scheduler's
outbox) go out through the same `send`, or `send_template` where the platform demands a pre-approved
template (WhatsApp outside the 24-hour window).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TextIO, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.kit.types import Reply
from db.models import ChannelIdentity
from dealerbot.logging import get_logger

log = get_logger("bot.channels")


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to on one channel: the Telegram chat id, the WhatsApp number (E.164)."""

    channel: str
    address: str
    language: str = "en"
    # The customer's last message on this channel (WhatsApp's 24-hour free-text window).
    last_inbound_at: datetime | None = None


class ChannelError(Exception):
    """A send that failed. `retryable` says whether the same send may succeed later (after
    `retry_after` seconds when the platform said so); `code` is the platform's error code."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None, code: str | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.code = code


class RecipientUnreachable(ChannelError):
    """The person blocked the bot (Telegram 403) or unsubscribed (Twilio 21610): do not send again."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message, retryable=False, code=code)


class OutsideWindow(ChannelError):
    """WhatsApp allows free text only within 24 hours of the customer's last message; use a template."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message, retryable=False, code=code)


def mark_unreachable(session: Session, channel: str, address: str, now: datetime) -> None:
    """The platform said this person cannot be reached (blocked the bot, unsubscribed): note it on their
    channel identity, once; their next message clears it."""
    identity = session.scalar(
        select(ChannelIdentity).where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == address)
    )
    if identity is not None and identity.unreachable_since is None:
        identity.unreachable_since = now
        log.info("identity_unreachable", channel=channel, identity_id=identity.id)


@dataclass
class ChannelHealth:
    state: str = "starting"  # starting | ok | degraded | disabled
    detail: str | None = None
    mode: str | None = None  # telegram: webhook | polling

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in {"state": self.state, "mode": self.mode, "detail": self.detail}.items() if v}


@runtime_checkable
class Channel(Protocol):
    name: str
    health: ChannelHealth

    async def send(self, recipient: Recipient, reply: Reply) -> list[str]:
        """Deliver one reply; returns the platform's ids of the messages sent."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class MediaUnavailable(Exception):
    """A file a customer sent could not be fetched from its platform (gone, too big, refused, unreachable);
    the message says why, for staff."""


@runtime_checkable
class MediaSource(Protocol):
    """A channel that can fetch the files its customers sent (for the staff console, which shows them)."""

    def holds(self, url: str) -> bool:
        """Whether `url` (as stored from an inbound message) names a file of this channel."""
        ...

    async def fetch_media(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """The file's bytes and content type; MediaUnavailable when it cannot be had or is over max_bytes."""
        ...


@dataclass
class RecordingChannel:
    """A fake channel for tests: records what was sent, fails on demand."""

    name: str = "fake"
    health: ChannelHealth = field(default_factory=lambda: ChannelHealth(state="ok"))
    sent: list[tuple[Recipient, Reply]] = field(default_factory=list)
    fail_with: ChannelError | None = None

    async def send(self, recipient: Recipient, reply: Reply) -> list[str]:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((recipient, reply))
        return [f"{self.name}-{len(self.sent)}"]

    async def start(self) -> None:
        self.health.state = "ok"

    async def stop(self) -> None:
        return None


def render_text(reply: Reply) -> str:
    """A reply as plain text with numbered options (the terminal, WhatsApp)."""
    lines = [reply.text]
    lines.extend(f"{index}. {option.label}" for index, option in enumerate(reply.options, start=1))
    lines.extend(f"{a.title or a.kind}: {a.url}" for a in reply.attachments)
    return "\n".join(lines)


@dataclass
class ConsoleChannel:
    """The terminal: replies printed as text with numbered options, or as one JSON object per line."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    as_json: bool = False
    name: str = "console"
    health: ChannelHealth = field(default_factory=lambda: ChannelHealth(state="ok"))

    async def send(self, recipient: Recipient, reply: Reply) -> list[str]:
        if self.as_json:
            print(reply.as_json(), file=self.out, flush=True)
        else:
            lines = [reply.text]
            lines.extend(f"  {i}. {o.label}" for i, o in enumerate(reply.options, start=1))
            lines.extend(f"  [{a.title or a.kind}] {a.url}" for a in reply.attachments)
            print("\n".join(lines), file=self.out, flush=True)
        return []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
