"""WhatsApp through Twilio: the inbound webhook, the status callback, and sending with the Twilio SDK.

Inbound (`POST /twilio/whatsapp`): the request must carry a valid `X-Twilio-Signature` for the URL Twilio
called, which is `PUBLIC_BASE_URL` + the request path (+ query) so it validates behind a proxy, or the
request's own URL when `PUBLIC_BASE_URL` is unset. The form becomes one `InboundMessage`: `From` (without
`whatsapp:`) is both the sender and the phone WhatsApp vouches for, `Body` the text, `MessageSid` the
message id (a redelivery is answered once), `ProfileName` the display name, `ButtonPayload` the picked
option, `MediaUrlN`/`MediaContentTypeN` the media and `Latitude`/`Longitude` a `geo:` media item.

Answering policy: the webhook awaits the turn for at most `turn_wait_seconds` (10 s; Twilio gives up
after 15 s) and answers an empty TwiML `<Response/>` either way; a slower turn finishes in the background.
The replies never go in the TwiML: they are sent through the REST API (Messages create) from a background
task the channel tracks (`stop()` waits for it), one conversation's replies in order, under the rate
limit and with retries. A redelivered MessageSid sends nothing.

Outbound: free text only within 24 hours of the customer's last message (`OutsideWindow` otherwise, and
Twilio is not called); templates (`send_template`, a Content SID and its variables) any time. Twilio's
answers map to the channel errors: 429/20429 pause everybody and retry, 21610 (unsubscribed) marks the
identity unreachable and raises `RecipientUnreachable`, 63016 raises `OutsideWindow`, other 4xx are final,
5xx and network failures are retried with backoff and then reported as retryable.

Status callbacks (`POST /twilio/status`, signed the same way) record the delivery status on the outbox row
with that provider message id; a late status never overwrites a later one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import anyio.to_thread
import httpx
from sqlalchemy import select
from starlette.datastructures import ImmutableMultiDict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels import (
    ChannelError,
    ChannelHealth,
    MediaUnavailable,
    OutsideWindow,
    Recipient,
    RecipientUnreachable,
    mark_unreachable,
    render_text,
)
from actions.kit.catalog import text as catalog_text
from bot.metrics import Metrics
from bot.ratelimit import RateLimiter
from bot.serial import KeyedLocks
from actions.kit.types import InboundMessage, Media, Reply
from bot.web import read_body
from db.models import OutboxMessage
from dealerbot.clock import Clock
from dealerbot.logging import get_logger
from dealerbot.settings import Settings

if TYPE_CHECKING:
    from bot.core import Assistant, UnitOfWork

log = get_logger("bot.whatsapp")

CHANNEL = "whatsapp"
PREFIX = "whatsapp:"
TWILIO_API_ROOT = "https://api.twilio.com"
FREE_TEXT_WINDOW = timedelta(hours=24)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_BODY_CHARS = 1600  # Twilio's limit for one WhatsApp message body
MAX_MEDIA = 10  # Twilio sends at most ten media items per message
MAX_FORM_FIELDS = 200
GEO_CONTENT_TYPE = "application/x-geo-uri"

# Twilio error codes that decide what a failed send means.
TOO_MANY_REQUESTS = 20429
UNSUBSCRIBED = 21610
OUTSIDE_WINDOW = 63016

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SID = re.compile(r"^[A-Za-z]{2}[0-9a-fA-F]{32}$")
_ERROR_CODE = re.compile(r"^\d{1,16}$")

# How far a message has got; a callback that arrives late (a "sent" after "delivered") does not go back.
# A failure is final: nothing overwrites it.
_STATUS_RANK = {
    "accepted": 0, "scheduled": 0, "queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4,
    "undelivered": 5, "failed": 5, "canceled": 5,
}
_FAILED = {"undelivered", "failed"}


# The SDK logs every request line at INFO (URLs with the account SID); our own events say what matters.
_sdk_log = logging.getLogger("bot.whatsapp.twilio_sdk")


def _is_rest_api(scheme: str, host: str) -> bool:
    """`https://api.twilio.com` or an edge's `api.<edge>.<region>.twilio.com`."""
    return scheme == "https" and (host == "api.twilio.com" or (host.startswith("api.") and host.endswith(".twilio.com")))


def on_base(base_url: str | None, url: str) -> str:
    """A URL of Twilio's REST API on the configured base URL (`TWILIO_API_BASE_URL`); any other URL, or
    every URL when no base is configured, as it is."""
    if base_url is None:
        return url
    parts = urlsplit(url)
    if _is_rest_api(parts.scheme, parts.hostname or ""):
        return base_url.rstrip("/") + url[len(f"{parts.scheme}://{parts.netloc}"):]
    return url


class TwilioApiHttpClient(AsyncTwilioHttpClient):
    """The SDK's aiohttp client, pointed at `TWILIO_API_BASE_URL` (a regional proxy or a test stand-in)
    instead of `https://api.twilio.com`, with a timeout on every request."""

    def __init__(self, base_url: str | None, timeout: float) -> None:
        _sdk_log.setLevel(logging.WARNING)
        super().__init__(pool_connections=True, timeout=timeout, logger=_sdk_log)
        self.base_url = base_url.rstrip("/") if base_url else None

    def rewrite(self, url: str) -> str:
        return on_base(self.base_url, url)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        if auth is not None:
            # aiohttp deprecates its BasicAuth object (what the SDK would build): send the header instead.
            headers = {**(headers or {}), "Authorization": aiohttp.encode_basic_auth(auth[0], auth[1])}
        return await super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=None,
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )


class WhatsAppChannel:
    """The WhatsApp channel (Twilio): webhook and status callback in, Messages create out."""

    name = CHANNEL

    def __init__(
        self,
        *,
        settings: Settings,
        assistant: Assistant,
        transaction: UnitOfWork,
        clock: Clock,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.assistant = assistant
        self.transaction = transaction
        self.clock = clock
        self.metrics = metrics
        self.health = ChannelHealth(state="starting")
        token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
        self._auth_token = token
        self._validator = RequestValidator(token) if token else None
        self.from_number = settings.twilio_whatsapp_from or ""
        if self.from_number and not self.from_number.startswith(PREFIX):
            self.from_number = PREFIX + self.from_number
        base = settings.public_base_url.rstrip("/") if settings.public_base_url else None
        self.public_base_url = base
        self.status_callback = f"{base}/twilio/status" if base else None
        rate = settings.whatsapp_rate_per_second
        # Twilio limits messages per second per sending number: one bucket keyed by our number.
        self.limiter = RateLimiter(overall=rate, per_key=rate, key_burst=max(1.0, rate))
        # Tunables (tests shorten them).
        self.turn_wait_seconds = 10.0
        self.retry_delay = 0.5  # first backoff after a 5xx/network failure or a 429; doubles each time
        self.max_attempts = 4
        self.request_timeout = 10.0
        self.stop_timeout = 20.0
        self._send_locks = KeyedLocks()
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: TwilioApiHttpClient | None = None
        self._client: Client | None = None

    @property
    def configured(self) -> bool:
        return bool(self.settings.twilio_account_sid and self._auth_token and self.from_number)

    # --- files customers sent (the staff console shows them) ---------------------------------------------
    def holds(self, url: str) -> bool:
        """A media URL of a message on our account, on Twilio's REST API (what the webhook's MediaUrlN is)."""
        sid = self.settings.twilio_account_sid
        parts = urlsplit(url)
        return (bool(sid) and _is_rest_api(parts.scheme, parts.hostname or "")
                and parts.path.startswith(f"/2010-04-01/Accounts/{sid}/Messages/") and "/Media/" in parts.path)

    async def fetch_media(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """GET with the account's Basic auth (Twilio can require it for media); Twilio answers with a redirect
        to its storage, which httpx follows without the credentials (they go to Twilio's origin only)."""
        if not self.configured or not self.holds(url):
            raise MediaUnavailable("not a WhatsApp file of this account")
        sid, token = self.settings.twilio_account_sid or "", self._auth_token or ""
        too_big = MediaUnavailable(f"the file is larger than {max_bytes // 1_000_000} MB")
        data = bytearray()
        try:
            async with httpx.AsyncClient(timeout=self.request_timeout, follow_redirects=True, max_redirects=5) as http:
                async with http.stream("GET", on_base(self.settings.twilio_api_base_url, url),
                                       auth=(sid, token)) as response:
                    if response.status_code != 200:
                        log.warning("whatsapp_media_unavailable", status=response.status_code)
                        raise MediaUnavailable(f"Twilio answered HTTP {response.status_code}")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise too_big
                    async for chunk in response.aiter_bytes():
                        data += chunk
                        if len(data) > max_bytes:
                            raise too_big
                    content_type = response.headers.get("content-type", "").split(";")[0].strip()
        except httpx.HTTPError as exc:
            log.warning("whatsapp_media_unavailable", error=type(exc).__name__)
            raise MediaUnavailable(f"Twilio could not be reached ({type(exc).__name__})") from exc
        return bytes(data), content_type or "application/octet-stream"

    # --- lifecycle ------------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Nothing to connect: Twilio calls us. Never raises."""
        if self.configured:
            self.health.state, self.health.detail = "ok", None
        else:
            self.health.state = "disabled"
            self.health.detail = "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_WHATSAPP_FROM are not all set"
        log.info("whatsapp_started", state=self.health.state)

    async def stop(self) -> None:
        """Wait for the turns and sends still running (bounded), then close the HTTP session."""
        deadline = time.monotonic() + self.stop_timeout
        while self._tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                log.warning("whatsapp_stop_cancelled_tasks")
                break
            await asyncio.wait(set(self._tasks), timeout=remaining)
        if self._http is not None:
            await self._http.close()
        self._http = None
        self._client = None
        self.health.state = "disabled"
        self.health.detail = "stopped"

    async def drain(self) -> None:
        """Wait until every turn and send started so far (and the sends they start) has finished."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- inbound --------------------------------------------------------------------------------------------
    async def handle_webhook(self, request: Request) -> Response:
        """An inbound WhatsApp message: verified, translated, answered (see the module's policy)."""
        form = await self._verified_form(request, "whatsapp")
        if isinstance(form, Response):
            return form
        received_at = self.clock.now()
        message = inbound_message(form, received_at)
        if isinstance(message, str):
            return self._reject("whatsapp", message, 400)
        self.metrics.messages_in.labels(CHANNEL).inc()
        log.info("whatsapp_message_in", media=len(message.media), button=message.payload is not None)
        turn = self._spawn(self._converse(message))
        try:
            await asyncio.wait_for(asyncio.shield(turn), self.turn_wait_seconds)
        except TimeoutError:
            log.warning("whatsapp_turn_slow", waited_seconds=self.turn_wait_seconds)
        return Response(EMPTY_TWIML, media_type="text/xml")

    async def _converse(self, message: InboundMessage) -> None:
        """One turn, then its replies sent in the background. Never raises: failures are counted."""
        started = time.perf_counter()
        try:
            answer = await self.assistant.respond(message)
        except Exception:  # noqa: BLE001 - a failed turn must not kill the task silently
            self.metrics.errors.labels("whatsapp_turn").inc()
            log.exception("whatsapp_turn_failed")
            return
        finally:
            self.metrics.turn_seconds.labels(CHANNEL).observe(time.perf_counter() - started)
        if answer.duplicate:
            self.metrics.duplicates.labels(CHANNEL).inc()
            return
        if answer.replies:
            recipient = Recipient(CHANNEL, message.sender, answer.language, last_inbound_at=message.received_at)
            self._spawn(self._deliver(recipient, answer.replies))

    async def _deliver(self, recipient: Recipient, replies: list[Reply]) -> None:
        """Send one turn's replies in order; a conversation's turns are delivered in the order they ran."""
        async with self._send_locks.hold(recipient.address):
            for reply in replies:
                try:
                    await self.send(recipient, reply)
                except ChannelError as exc:
                    log.warning("whatsapp_reply_not_sent", code=exc.code, retryable=exc.retryable,
                                error=exc.__class__.__name__)
                    return
                except Exception:  # noqa: BLE001 - counted and logged; the next turn still gets its answer
                    self.metrics.errors.labels("whatsapp_send").inc()
                    log.exception("whatsapp_reply_failed")
                    return

    # --- status callbacks -----------------------------------------------------------------------------------
    async def handle_status(self, request: Request) -> Response:
        """Twilio's delivery status of a message we sent: recorded on its outbox row, if it has one."""
        form = await self._verified_form(request, "status")
        if isinstance(form, Response):
            return form
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
        if not _SID.match(sid) or not status:
            return self._reject("status", "missing_field", 400)
        raw_code = (form.get("ErrorCode") or "").strip()
        error_code = raw_code if _ERROR_CODE.match(raw_code) else None
        known = status in _STATUS_RANK
        self.metrics.delivery_status.labels(CHANNEL, status if known else "other").inc()
        address = whatsapp_number(form.get("To") or "")
        outcome = await anyio.to_thread.run_sync(
            self._record_status, sid, status, error_code, address, self.clock.now()
        )
        log.info("whatsapp_status", status=status if known else "other", error_code=error_code, outcome=outcome)
        return PlainTextResponse("", status_code=200)

    def _record_status(
        self, sid: str, status: str, error_code: str | None, address: str | None, now: datetime
    ) -> str:
        with self.transaction() as session:
            row = session.scalar(select(OutboxMessage).where(OutboxMessage.provider_message_id == sid))
            if error_code == str(UNSUBSCRIBED):
                target = whatsapp_number(row.recipient) if row is not None else address
                if target is not None:
                    mark_unreachable(session, CHANNEL, target, now)
            if row is None:
                return "unknown_message"
            if status not in _STATUS_RANK:
                return "unknown_status"
            if _STATUS_RANK[status] < _STATUS_RANK.get(row.delivery_status or "", -1):
                return "stale"
            row.delivery_status = status
            row.delivery_error_code = error_code
            row.delivery_updated_at = now
            if status in _FAILED:
                if error_code == str(UNSUBSCRIBED):
                    row.status = "cancelled"
                    row.last_error = "the recipient unsubscribed from WhatsApp messages (Twilio 21610)"
                elif error_code == str(OUTSIDE_WINDOW):
                    row.status = "failed"
                    row.last_error = (
                        "outside the 24-hour window: WhatsApp needs an approved template (Twilio 63016); not retried"
                    )
                else:
                    row.status = "failed"
                    row.last_error = f"Twilio reported the message {status} (error {error_code or 'unknown'})"
            return "recorded"

    # --- outbound -------------------------------------------------------------------------------------------
    async def send(self, recipient: Recipient, reply: Reply) -> list[str]:
        """Free text with numbered options; only within 24 hours of the customer's last message."""
        if not self.in_window(recipient):
            self.metrics.send_failures.labels(CHANNEL, "outside_window").inc()
            raise OutsideWindow("outside the 24-hour window: use a template")
        body = render_text(reply)
        if reply.options:
            body += "\n" + catalog_text("options_hint", recipient.language)
        return [await self._create(recipient.address, body=part) for part in split_body(body)]

    async def send_template(self, recipient: Recipient, content_sid: str, variables: dict[str, str]) -> list[str]:
        """A pre-approved template (Twilio Content API): allowed any time."""
        return [
            await self._create(
                recipient.address,
                content_sid=content_sid,
                content_variables=json.dumps(variables, ensure_ascii=False),
            )
        ]

    def in_window(self, recipient: Recipient) -> bool:
        last = recipient.last_inbound_at
        if last is None:
            return False
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        return self.clock.now() - last < FREE_TEXT_WINDOW

    async def _rest(self) -> Client:
        if not self.configured:
            raise ChannelError("WhatsApp is not configured", retryable=False, code="not_configured")
        if self._client is None:
            # Made here, inside the running loop: aiohttp binds its session to it.
            self._http = TwilioApiHttpClient(self.settings.twilio_api_base_url, self.request_timeout)
            sid = self.settings.twilio_account_sid
            self._client = Client(sid, self._auth_token, account_sid=sid, http_client=self._http)
        return self._client

    async def _create(self, address: str, **params: str) -> str:
        """One Messages create with the rate limit and retries; returns the message SID."""
        client = await self._rest()
        if self.status_callback:
            params["status_callback"] = self.status_callback
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.wait(self.from_number)
            try:
                message = await client.messages.create_async(to=PREFIX + address, from_=self.from_number, **params)
            except (TwilioRestException, TwilioServiceException) as exc:
                status, code = int(exc.status or 0), _int_or_none(exc.code)
                if status == 429 or code == TOO_MANY_REQUESTS:
                    if attempt < self.max_attempts:
                        pause = self.retry_delay * 2 ** (attempt - 1)
                        log.warning("whatsapp_rate_limited", attempt=attempt, pause_seconds=pause)
                        self.limiter.pause(pause)
                        continue
                    raise self._failure("rate_limited", ChannelError(
                        "Twilio kept answering too many requests", retryable=True,
                        retry_after=self.retry_delay * 2 ** attempt, code=str(code or status)))
                if code == UNSUBSCRIBED:
                    await anyio.to_thread.run_sync(self._mark_unreachable, address)
                    raise self._failure("unsubscribed", RecipientUnreachable(
                        "the recipient unsubscribed (Twilio 21610)", code=str(code)))
                if code == OUTSIDE_WINDOW:
                    raise self._failure("outside_window", OutsideWindow(
                        "outside the 24-hour window (Twilio 63016): use a template", code=str(code)))
                if 400 <= status < 500:
                    raise self._failure("rejected", ChannelError(
                        f"Twilio refused the message (HTTP {status}, error {code})", retryable=False,
                        code=str(code or status)))
                failure = f"HTTP {status}, error {code}"
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                failure = exc.__class__.__name__
            else:
                self.metrics.messages_out.labels(CHANNEL).inc()
                log.info("whatsapp_sent", sid=message.sid, attempt=attempt)
                return str(message.sid)
            if attempt >= self.max_attempts:
                raise self._failure("unavailable", ChannelError(
                    f"Twilio unavailable after {attempt} attempts ({failure})", retryable=True))
            delay = self.retry_delay * 2 ** (attempt - 1)
            log.warning("whatsapp_send_retry", attempt=attempt, failure=failure, delay_seconds=delay)
            await asyncio.sleep(delay)

    def _failure(self, reason: str, error: ChannelError) -> ChannelError:
        self.metrics.send_failures.labels(CHANNEL, reason).inc()
        log.warning("whatsapp_send_failed", reason=reason, code=error.code)
        return error

    def _mark_unreachable(self, address: str) -> None:
        with self.transaction() as session:
            mark_unreachable(session, CHANNEL, address, self.clock.now())

    # --- requests -------------------------------------------------------------------------------------------
    async def _verified_form(self, request: Request, endpoint: str) -> ImmutableMultiDict[str, str] | Response:
        """The form of a request Twilio signed, or the response refusing it (413, 400, 403, 404)."""
        if self._validator is None:
            return self._reject(endpoint, "not_configured", 404)
        try:
            body = await read_body(request)
        except HTTPException as exc:
            self.metrics.rejected.labels(endpoint, "too_large" if exc.status_code == 413 else "bad_request").inc()
            raise
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict",
                              max_num_fields=MAX_FORM_FIELDS)
        except (UnicodeDecodeError, ValueError):
            return self._reject(endpoint, "unparseable", 400)
        form: ImmutableMultiDict[str, str] = ImmutableMultiDict(pairs)
        signature = request.headers.get("x-twilio-signature")
        if not signature or not self._validator.validate(self.signed_url(request), form, signature):
            return self._reject(endpoint, "signature", 403)
        return form

    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: PUBLIC_BASE_URL + path (+ query), so it validates behind a proxy."""
        if self.public_base_url is None:
            return str(request.url)
        query = request.url.query
        return self.public_base_url + request.url.path + (f"?{query}" if query else "")

    def _reject(self, endpoint: str, reason: str, status: int) -> Response:
        self.metrics.rejected.labels(endpoint, reason).inc()
        log.warning("whatsapp_request_rejected", endpoint=endpoint, reason=reason, status=status)
        return PlainTextResponse(reason.replace("_", " "), status_code=status)


# --- translation (pure) --------------------------------------------------------------------------------------


def whatsapp_number(address: str) -> str | None:
    """'whatsapp:+9715...' (or a bare '+9715...') → '+9715...'; None for anything else."""
    number = address.strip().removeprefix(PREFIX).strip()
    return number if _E164.match(number) else None


def _clean(value: str | None) -> str:
    return (value or "").replace("\x00", "")


def inbound_message(form: ImmutableMultiDict[str, str], received_at: datetime) -> InboundMessage | str:
    """Twilio's inbound WhatsApp form as an InboundMessage, or the reason it is refused."""
    raw_from, sid = form.get("From") or "", form.get("MessageSid") or ""
    if not raw_from or not sid:
        return "missing_field"
    if not raw_from.startswith(PREFIX):
        return "not_whatsapp"
    number = whatsapp_number(raw_from)
    if number is None:
        return "bad_sender"
    if not _SID.match(sid):
        return "bad_message_sid"
    profile = _clean(form.get("ProfileName")).strip()[:200]
    payload = _clean(form.get("ButtonPayload")) or None
    return InboundMessage(
        channel=CHANNEL,
        sender=number,
        phone=number,
        text=_clean(form.get("Body")),
        received_at=received_at,
        media=tuple(_media(form)),
        payload=payload,
        display_name=profile or None,
        message_id=sid,
    )


def _media(form: ImmutableMultiDict[str, str]) -> list[Media]:
    items: list[Media] = []
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError:
        count = 0
    for index in range(max(0, min(count, MAX_MEDIA))):
        url = _clean(form.get(f"MediaUrl{index}")).strip()
        if url:
            content_type = _clean(form.get(f"MediaContentType{index}")).strip()[:100]
            items.append(Media(url=url, content_type=content_type or "application/octet-stream"))
    location = _location(form.get("Latitude"), form.get("Longitude"))
    if location is not None:
        items.append(Media(url=location, content_type=GEO_CONTENT_TYPE))
    return items


def _location(latitude: str | None, longitude: str | None) -> str | None:
    """A shared location as a `geo:lat,lng` URI (RFC 5870), or None when there is none or it is nonsense."""
    try:
        lat, lng = float(latitude or ""), float(longitude or "")
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return f"geo:{lat:.6f},{lng:.6f}"


def split_body(body: str, limit: int = MAX_BODY_CHARS) -> list[str]:
    """A body in parts of at most `limit` characters, cut at line ends where possible."""
    parts: list[str] = []
    current = ""
    for line in body.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
