"""Files customers sent (a complaint's or a claim's photos, media in a conversation), shown in the console.

The database keeps what the channel gave: `tg-file:<file_id>` for Telegram, the MediaUrl of Twilio's
webhook for WhatsApp. Neither opens in a browser (the Telegram file URL holds the bot's token; Twilio's
media can require the account's credentials), so the console fetches the file through the channel that
holds it and serves the bytes to a signed-in member of staff who may see the page that shows it (the
ticket, or the hand-off; a conversation's file only under the page of that customer's case or that
conversation's hand-off). It
fetches only what a configured channel holds (never an arbitrary URL from the database), at most
MAX_BYTES, and serves it so that a browser cannot run it: `nosniff`, a sandboxing CSP, and as a download
unless it is a plain image, PDF, audio or video.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.responses import Response

from actions.complaints import casework
from actions.handoff import desk
from bot.channels import Channel, MediaSource, MediaUnavailable
from bot.staff.queue import may_see
from db.models import ChannelIdentity, ChatMessage, Complaint, Handoff, StaffUser, WarrantyClaim

MAX_BYTES = 20_000_000  # Telegram's bots may download 20 MB; WhatsApp media is at most 16 MB
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf",
                          "video/mp4", "video/3gpp", "audio/ogg", "audio/mpeg", "audio/aac", "audio/amr"})
GEO_PREFIX = "geo:"


@dataclass(frozen=True)
class Found:
    """A file staff asked for: its stored URL (status 200), or why not (404/403 and a text key)."""

    status: int
    url: str | None = None
    error_key: str | None = None


def case_photo(session: Session, user: StaffUser, ticket: str, index: int) -> Found:
    case = _visible_case(session, user, ticket)
    return case if isinstance(case, Found) else _pick(case.photos, index)


def case_message_media(session: Session, user: StaffUser, ticket: str, message_id: int, index: int) -> Found:
    """A file in the conversation a ticket's page shows: the case's customer's messages."""
    case = _visible_case(session, user, ticket)
    if isinstance(case, Found):
        return case
    message = session.get(ChatMessage, message_id)
    identity = session.get(ChannelIdentity, message.channel_identity_id) if message is not None else None
    if message is None or identity is None or identity.customer_id != case.customer_id:
        return Found(404, error_key="staff_media_not_found")
    return _pick(message.media, index)


def handoff_message_media(session: Session, user: StaffUser, handoff_id: int, message_id: int, index: int) -> Found:
    """A file in a hand-off's conversation, for staff who may handle it."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        return Found(404, error_key="staff_not_found")
    if not desk.may_handle(session, user, handoff):
        return Found(403, error_key="staff_refused_branch")
    message = session.get(ChatMessage, message_id)
    if message is None or message.channel_identity_id != handoff.channel_identity_id:
        return Found(404, error_key="staff_media_not_found")
    return _pick(message.media, index)


def _visible_case(session: Session, user: StaffUser, ticket: str) -> Complaint | WarrantyClaim | Found:
    """The ticket's case, as its page would show it to the user; else why not."""
    case = casework.find_case(session, ticket)
    if case is None:
        return Found(404, error_key="staff_not_found")
    if not may_see(session, user, case):
        return Found(403, error_key="staff_refused_branch")
    return case


def _pick(stored: list[str] | None, index: int) -> Found:
    """The index-th stored file (a shared place is a map link, not a file)."""
    items = list(stored or [])
    if not 0 <= index < len(items) or items[index].startswith(GEO_PREFIX):
        return Found(404, error_key="staff_media_not_found")
    return Found(200, url=items[index])


def transcript_media(message: ChatMessage, base: str) -> list[dict[str, str | bool]]:
    """A message's media as a transcript shows them; `base` is the page's path (a ticket's or a hand-off's)."""
    return [link(url, f"{base}/messages/{message.id}/media/{index}", index + 1)
            for index, url in enumerate(message.media or [])]


async def fetch(channels: Iterable[Channel], url: str) -> tuple[bytes, str]:
    """The file's bytes and content type from the channel that holds it; MediaUnavailable otherwise."""
    for channel in channels:
        if isinstance(channel, MediaSource) and channel.holds(url):
            return await channel.fetch_media(url, MAX_BYTES)
    raise MediaUnavailable("no configured channel holds this file")


def serve(data: bytes, content_type: str, name: str) -> Response:
    content_type = content_type.lower()
    extension = mimetypes.guess_extension(content_type) or ""
    disposition = "inline" if content_type in INLINE_TYPES else "attachment"
    return Response(data, media_type=content_type if "/" in content_type else "application/octet-stream", headers={
        "Content-Disposition": f'{disposition}; filename="{name}{extension}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; media-src 'self'; sandbox",
        "Cache-Control": "private, max-age=600",
    })


def link(url: str, href: str, number: int) -> dict[str, str | bool]:
    """How a stored media item shows on a page: a shared place links to the map, a file to `href` (the
    console's fetch of it)."""
    if url.startswith(GEO_PREFIX):
        where = url[len(GEO_PREFIX):].split(";")[0]
        lat, _, lng = where.partition(",")
        return {"href": f"https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=17/{lat}/{lng}",
                "label": where, "place": True}
    return {"href": href, "label": str(number), "place": False}
