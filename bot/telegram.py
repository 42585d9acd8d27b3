"""The Telegram channel: Bot API updates ⇄ InboundMessage / Reply, through python-telegram-bot's `Bot`.

Two modes. With PUBLIC_BASE_URL set, Telegram posts updates to `POST /telegram/webhook` (the ASGI app owns
the endpoint and calls `handle_webhook`); without it, a background task long-polls `getUpdates`. Either
way every update becomes one task, created in the order the updates arrived, so different customers are
served concurrently while the core keeps each conversation's turns in order. Replies always go out through
the Bot API (`sendMessage`), rate-limited overall and per chat.

Only a contact the sender shares of themselves (`contact.user_id == from.id`) carries a phone number into
the core; nothing else ever links a Telegram user to a customer.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import mimetypes
import os
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot.channels import (
    ChannelError,
    ChannelHealth,
    MediaUnavailable,
    Recipient,
    RecipientUnreachable,
    mark_unreachable,
)
from bot.core import CONSENT_OFF, COMMAND_INTENTS, Answer, Assistant, UnitOfWork
from actions.kit.catalog import text
from bot.metrics import Metrics
from actions.kit.choice import payload_of
from bot.ratelimit import RateLimiter
from actions.kit.types import Attachment, InboundMessage, Media, Option, Reply
from bot.web import read_body
from dealerbot.clock import Clock
from dealerbot.logging import get_logger
from dealerbot.settings import Settings

log = get_logger("bot.telegram")

# python-telegram-bot 22.2+ gives time periods (a 429's retry_after) as timedelta when PTB_TIMEDELTA is
# set, the only behaviour of its next major version; without it, it warns at every 429 that ints are
# deprecated. ptb reads the variable when a value is read; this module reads both kinds
# (`_retry_after_seconds`); an explicit setting stands.
os.environ.setdefault("PTB_TIMEDELTA", "1")

CHANNEL = "telegram"
FILE_PREFIX = "tg-file:"  # how a file a customer sent is stored: "tg-file:<file_id>"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
COMMANDS = ("start", "help", "menu", "language", "stop")
# The /language buttons: pressing one sends the core the word that switches the language.
LANGUAGE_BUTTONS = {"tg:lang:en": "English", "tg:lang:ar": "عربي"}
LANGUAGE_LABELS = {"tg:lang:en": "English", "tg:lang:ar": "العربية"}
MAX_TEXT = 4096  # Telegram's limit for one message's text
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as a webhook secret_token
_GEO = re.compile(r"^geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")
_MAX_ID = 2**62

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove
T = TypeVar("T")


class InvalidUpdate(ValueError):
    """An update whose fields do not have the types the Bot API documents."""


@dataclass(frozen=True)
class Pressed:
    """A button press to acknowledge: answer the callback and show the choice in the original message."""

    query_id: str
    chat_id: int
    message: Message | None
    label: str | None
    language: str


@dataclass(frozen=True)
class Work:
    """What one update asks of the channel: a turn of the core, or a reply of the channel's own."""

    update_id: int
    chat_id: int
    inbound: InboundMessage | None = None
    local_key: str | None = None  # a channel text to answer with, without the core
    local_markup: ReplyMarkup | None = None
    language: str = "en"
    pressed: Pressed | None = None
    start_command: bool = False


class TelegramChannel:
    """The Telegram adapter behind the `Channel` protocol; `handle_webhook` serves the ASGI route."""

    name = CHANNEL

    def __init__(
        self,
        *,
        settings: Settings,
        assistant: Assistant,
        transaction: UnitOfWork,
        clock: Clock,
        metrics: Metrics | None = None,
        bot: Bot | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        token = settings.telegram_bot_token.get_secret_value()
        secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
        self.webhook_url = (
            settings.public_base_url.rstrip("/") + "/telegram/webhook" if settings.public_base_url else None
        )
        if self.webhook_url is not None and secret is None:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET must be set in webhook mode (PUBLIC_BASE_URL is set)")
        if secret is not None and not _SECRET.match(secret):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1 to 256 characters)")
        self._token = token
        self._secret = secret
        root = (settings.telegram_api_base_url or "https://api.telegram.org").rstrip("/")
        self.bot = bot or Bot(
            token,
            base_url=f"{root}/bot",
            base_file_url=f"{root}/file/bot",
            request=HTTPXRequest(connection_pool_size=64, pool_timeout=5.0),
            get_updates_request=HTTPXRequest(connection_pool_size=1),
        )
        self.assistant = assistant
        self.transaction = transaction
        self.clock = clock
        self.metrics = metrics or Metrics()
        # Telegram allows 30 messages a second in all, counted over any second: 29 a second evenly spaced
        # keeps every second under it (a burst of 30 then the rate drew 429s: benchmarks/bench_scheduler.py).
        self.limiter = limiter or RateLimiter(overall=29, per_key=1, key_burst=3, burst=1)
        self.health = ChannelHealth(state="starting", mode="webhook" if self.webhook_url else "polling")
        # Tunable timings (tests make them small).
        self.retry_delay = 1.0  # first pause before retrying the Bot API; doubles up to max_retry_delay
        self.max_retry_delay = 60.0
        self.send_attempts = 4
        self.typing_delay = 0.5  # show "typing…" when a turn takes longer than this
        self.turn_timeout = 10.0  # the webhook waits this long for a turn before answering 200 anyway
        self.start_timeout = 10.0
        self.stop_timeout = 10.0
        self.poll_timeout = 30  # getUpdates long-poll seconds
        self._background: set[asyncio.Task[None]] = set()
        self._inflight: set[asyncio.Task[None]] = set()
        self._answered_locally: OrderedDict[int, None] = OrderedDict()

    # --- files customers sent (the staff console shows them) -----------------------------------------------
    def holds(self, url: str) -> bool:
        return url.startswith(FILE_PREFIX) and len(url) > len(FILE_PREFIX)

    async def fetch_media(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """getFile, then the download from the Bot API's file URL (the bot's token is in that URL: it is
        never shown, the console serves the bytes)."""
        if not self.holds(url):
            raise MediaUnavailable("not a Telegram file")
        try:
            found = await self.bot.get_file(url[len(FILE_PREFIX):])
            if found.file_size is not None and found.file_size > max_bytes:
                raise MediaUnavailable(f"the file is larger than {max_bytes // 1_000_000} MB")
            data = bytes(await found.download_as_bytearray())
        except TelegramError as exc:
            log.warning("telegram_file_unavailable", error=type(exc).__name__)
            raise MediaUnavailable(f"Telegram would not give the file ({exc.message})") from exc
        if len(data) > max_bytes:
            raise MediaUnavailable(f"the file is larger than {max_bytes // 1_000_000} MB")
        guessed, _ = mimetypes.guess_type(found.file_path or "")
        return data, guessed or "application/octet-stream"

    # --- lifecycle ----------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect (getMe, setWebhook or deleteWebhook, setMyCommands); never raises: a Bot API that does
        not answer leaves the channel degraded and is retried in the background."""
        try:
            await asyncio.wait_for(self._connect(), self.start_timeout)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the app must start
            self._degraded("bot_api_unavailable", exc)
            self._in_background(self._reconnect_then_poll())
            return
        self._ok()
        if self.webhook_url is None:
            self._in_background(self._poll())

    async def start_sending(self) -> None:
        """For a process that only sends (`dealerbot scheduler`, `run-once`): the Bot API client, and
        neither the webhook changed nor updates polled (the app that serves the chat does that)."""
        try:
            await asyncio.wait_for(self.bot.initialize(), self.start_timeout)
        except Exception as exc:  # noqa: BLE001 - sends then fail as retryable and wait in the outbox
            self._degraded("bot_api_unavailable", exc)
            return
        self._ok()

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._inflight:
            _done, pending = await asyncio.wait(set(self._inflight), timeout=self.stop_timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        try:
            await self.bot.shutdown()
        except Exception as exc:  # noqa: BLE001 - closing is best effort
            log.warning("telegram_shutdown_failed", error=self._describe(exc))
        log.info("telegram_stopped")

    async def _connect(self) -> None:
        await self.bot.initialize()  # getMe: the token works and the API answers
        if self.webhook_url is not None:
            await self.bot.set_webhook(
                url=self.webhook_url, secret_token=self._secret, allowed_updates=ALLOWED_UPDATES
            )
        else:
            await self.bot.delete_webhook()
        await self._set_commands()

    async def _set_commands(self) -> None:
        """The command menu in English (default) and Arabic; a failure is logged, not fatal."""
        try:
            for language, code in (("en", None), ("ar", "ar")):
                commands = [BotCommand(name, text(f"cmd_{name}", language)) for name in COMMANDS]
                await self.bot.set_my_commands(commands, language_code=code)
        except TelegramError as exc:
            log.warning("telegram_commands_not_set", error=self._describe(exc))

    async def _reconnect_then_poll(self) -> None:
        delay = self.retry_delay
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_retry_delay)
            try:
                await asyncio.wait_for(self._connect(), self.start_timeout)
            except Exception as exc:  # noqa: BLE001 - keep trying whatever it was
                self._degraded("bot_api_unavailable", exc)
                continue
            self._ok()
            break
        if self.webhook_url is None:
            await self._poll()

    async def _poll(self) -> None:
        """Long-poll getUpdates; the offset confirms what was taken, so no update is handled twice."""
        offset: int | None = None
        delay = self.retry_delay
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
                )
            except RetryAfter as exc:
                await asyncio.sleep(_retry_after_seconds(exc))
                continue
            except Exception as exc:  # noqa: BLE001 - network, 5xx, Conflict: back off and retry
                self.metrics.errors.labels("telegram_polling").inc()
                self._degraded("polling_failed", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_retry_delay)
                continue
            delay = self.retry_delay
            if self.health.state != "ok":
                self._ok()
            for update in updates:
                offset = max(offset or 0, update.update_id + 1)
                try:
                    work = self._translate(update)
                except Exception as exc:  # noqa: BLE001 - one bad update must not stop the others
                    log.warning("telegram_update_invalid", update_id=update.update_id, error=exc.__class__.__name__)
                    continue
                if work is not None:
                    self._spawn(work)

    def _in_background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _ok(self) -> None:
        self.health.state = "ok"
        self.health.detail = None
        log.info("telegram_connected", mode=self.health.mode)

    def _degraded(self, what: str, exc: BaseException) -> None:
        detail = f"{what}: {self._describe(exc)}"
        if self.health.detail != detail or self.health.state != "degraded":
            log.warning("telegram_degraded", mode=self.health.mode, detail=detail)
        self.health.state = "degraded"
        self.health.detail = detail

    def _describe(self, exc: BaseException) -> str:
        """An error for logs and health: its class and message, never the token (it is part of URLs)."""
        message = str(exc) or ""
        if self._token:
            message = message.replace(self._token, "[token]")
        return f"{exc.__class__.__name__}: {message[:200]}" if message else exc.__class__.__name__

    # --- inbound: the webhook -----------------------------------------------------------------------------
    async def handle_webhook(self, request: Request) -> Response:
        if self.webhook_url is None or self._secret is None:
            return self._reject(404, "not_webhook_mode")
        given = request.headers.get(SECRET_HEADER)
        if given is None or not hmac.compare_digest(given.encode(), self._secret.encode()):
            return self._reject(403, "bad_secret")
        try:
            body = await read_body(request)
        except HTTPException as exc:
            reason = "too_large" if exc.status_code == 413 else "bad_request"
            self.metrics.rejected.labels(CHANNEL, reason).inc()
            log.warning("telegram_webhook_rejected", reason=reason)
            raise
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return self._reject(400, "malformed_json")
        if not isinstance(data, dict):
            return self._reject(400, "not_an_object")
        try:
            work = self._translate(Update.de_json(data, self.bot))
        except Exception:  # noqa: BLE001 - any field of the wrong shape: the update is not one we read
            return self._reject(400, "invalid_update")
        if work is None:
            return PlainTextResponse("ignored")
        task = self._spawn(work)
        try:
            await asyncio.wait_for(asyncio.shield(task), self.turn_timeout)
        except TimeoutError:
            log.warning("telegram_turn_slow", update_id=work.update_id)
        return PlainTextResponse("ok")

    def _reject(self, status: int, reason: str) -> Response:
        self.metrics.rejected.labels(CHANNEL, reason).inc()
        log.warning("telegram_webhook_rejected", reason=reason, status=status)
        return PlainTextResponse(reason.replace("_", " "), status_code=status)

    # --- inbound: update → Work ---------------------------------------------------------------------------
    def _translate(self, update: Update) -> Work | None:
        """The Work an update asks for, or None (logged) for what the bot does not handle."""
        update_id = _int(update.update_id)
        if not 0 <= update_id < _MAX_ID:
            raise InvalidUpdate("update_id out of range")
        if update.callback_query is not None:
            return self._from_callback(update_id, update.callback_query)
        if update.message is not None:
            return self._from_message(update_id, update.message)
        kind = next((k for k in Update.ALL_TYPES if getattr(update, k, None) is not None), "unknown")
        log.info("telegram_update_ignored", update_id=update_id, kind=kind)
        return None

    def _from_message(self, update_id: int, message: Message) -> Work | None:
        user = message.from_user
        chat_type = _str(message.chat.type)
        if user is None or chat_type != ChatType.PRIVATE or user.is_bot is True:
            log.info("telegram_update_ignored", update_id=update_id, kind="message", chat_type=chat_type)
            return None
        chat_id = _int(message.chat.id)
        language = _language_of(user)
        inbound = dict(
            channel=CHANNEL,
            sender=str(_int(user.id)),
            message_id=str(update_id),
            display_name=_display_name(user),
            language_hint=language,
        )
        work = dict(update_id=update_id, chat_id=chat_id, language=language)
        said = _str(message.text)
        caption = _str(message.caption) or ""

        if message.contact is not None:
            own = message.contact.user_id is not None and message.contact.user_id == user.id
            phone = _str(message.contact.phone_number)
            if own and phone and message.forward_origin is None:
                return Work(**work, inbound=InboundMessage(**inbound, phone=phone, shared_contact=True))
            log.info("telegram_contact_not_own", update_id=update_id)
            return Work(**work, local_key="contact_not_own", local_markup=share_keyboard(language))
        if said is not None and said.startswith("/"):
            return self._command(said, work, inbound)
        if said is not None:
            return Work(**work, inbound=InboundMessage(**inbound, text=said))
        media = _media_of(message)
        if media is not None:
            return Work(**work, inbound=InboundMessage(**inbound, text=caption, media=(media,)))
        if message.voice is not None or message.audio is not None or message.video_note is not None:
            return Work(**work, local_key="unsupported_voice")
        if message.sticker is not None:
            return Work(**work, local_key="unsupported_sticker")
        log.info("telegram_update_ignored", update_id=update_id, kind="message_content")
        return None

    @staticmethod
    def _command(said: str, work: dict[str, Any], inbound: dict[str, Any]) -> Work:
        # The text goes to the core empty: "/start" read as words would be the START keyword (and English).
        head, _, rest = said.partition(" ")
        command = head[1:].split("@", 1)[0].lower()
        argument = rest.strip()
        if command == "start":
            intent = argument if argument in COMMAND_INTENTS else "greet"
            return Work(**work, inbound=InboundMessage(**inbound, intent=intent), start_command=True)
        if command in {"help", "menu"}:
            return Work(**work, inbound=InboundMessage(**inbound, intent="greet"))
        if command == "stop":
            return Work(**work, inbound=InboundMessage(**inbound, intent=CONSENT_OFF))
        if command == "language":
            buttons = [[InlineKeyboardButton(label, callback_data=data)] for data, label in LANGUAGE_LABELS.items()]
            return Work(**work, local_key="choose_language", local_markup=InlineKeyboardMarkup(buttons))
        return Work(**work, inbound=InboundMessage(**inbound, text=said))  # unknown command: plain words

    def _from_callback(self, update_id: int, query: CallbackQuery) -> Work | None:
        user = query.from_user
        message = query.message if isinstance(query.message, Message) else None
        chat = query.message.chat if query.message is not None else None
        chat_id = _int(chat.id) if chat is not None else _int(user.id)
        language = _language_of(user)
        data = _str(query.data)
        label = _label_of(message, data) if data is not None else None
        query_id = _str(query.id) or ""
        if (chat is not None and _str(chat.type) != ChatType.PRIVATE) or data is None:
            log.info("telegram_update_ignored", update_id=update_id, kind="callback_query")
            # Only answered, so the button stops spinning.
            return Work(update_id, chat_id, language=language, pressed=Pressed(query_id, chat_id, None, None, language))
        pressed = Pressed(query_id, chat_id, message, label, language)
        work = dict(update_id=update_id, chat_id=chat_id, language=language, pressed=pressed)
        inbound = dict(
            channel=CHANNEL,
            sender=str(_int(user.id)),
            message_id=str(update_id),
            display_name=_display_name(user),
        )
        if data in LANGUAGE_BUTTONS:
            return Work(**work, inbound=InboundMessage(**inbound, text=LANGUAGE_BUTTONS[data]))
        return Work(**work, inbound=InboundMessage(**inbound, text=label or "", payload=data))

    # --- one update's task --------------------------------------------------------------------------------
    def _spawn(self, work: Work) -> asyncio.Task[None]:
        """One task per update, created in arrival order (the core takes the conversation's lock in the
        task's first step, so the order of creation is the order of the turns)."""
        self.metrics.messages_in.labels(CHANNEL).inc()
        task = asyncio.create_task(self._run(work))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return task

    async def _run(self, work: Work) -> None:
        started = time.perf_counter()
        acknowledged = asyncio.create_task(self._acknowledge(work.pressed)) if work.pressed else None
        try:
            if work.inbound is not None:
                await self._turn(work, work.inbound)
            elif work.local_key is not None and self._first_local(work.update_id):
                reply = Reply(text(work.local_key, work.language))
                await self._deliver_safely(work.chat_id, reply, work.local_markup)
        except Exception:  # noqa: BLE001 - one update's failure is logged; the others go on
            self.metrics.errors.labels("telegram_turn").inc()
            log.exception("telegram_turn_failed", update_id=work.update_id)
        finally:
            if acknowledged is not None:
                [outcome] = await asyncio.gather(acknowledged, return_exceptions=True)
                if isinstance(outcome, Exception):
                    log.error("telegram_callback_ack_failed", error=self._describe(outcome))
            self.metrics.turn_seconds.labels(CHANNEL).observe(time.perf_counter() - started)

    async def _turn(self, work: Work, inbound: InboundMessage) -> None:
        typing = asyncio.create_task(self._typing(work.chat_id))
        try:
            # The first await: the core takes the conversation's lock before anything else yields.
            answer = await self.assistant.respond(inbound)
        finally:
            typing.cancel()
        if answer.duplicate:
            self.metrics.duplicates.labels(CHANNEL).inc()
            return
        await self._render_answer(work, inbound, answer)

    async def _render_answer(self, work: Work, inbound: InboundMessage, answer: Answer) -> None:
        for index, reply in enumerate(answer.replies):
            # The phone was shared: the share button has done its work.
            markup = ReplyKeyboardRemove() if inbound.shared_contact and index == 0 else None
            if not await self._deliver_safely(work.chat_id, reply, markup):
                return
        if not answer.linked and not inbound.shared_contact and (answer.new_identity or work.start_command):
            prompt = Reply(text("share_phone_prompt", answer.language))
            await self._deliver_safely(work.chat_id, prompt, share_keyboard(answer.language))

    async def _typing(self, chat_id: int) -> None:
        """"typing…" while a turn takes longer than `typing_delay` (Telegram shows it for 5 seconds)."""
        await asyncio.sleep(self.typing_delay)
        while True:
            try:
                await self.bot.send_chat_action(chat_id, ChatAction.TYPING)
            except TelegramError as exc:
                log.debug("telegram_typing_failed", error=self._describe(exc))
                return
            await asyncio.sleep(4.5)

    async def _acknowledge(self, pressed: Pressed) -> None:
        """Answer the callback (the button stops spinning) and keep the choice visible in the chat."""
        try:
            await self.bot.answer_callback_query(pressed.query_id)
        except TelegramError as exc:
            log.info("telegram_callback_answer_failed", error=self._describe(exc))
        message = pressed.message
        if message is None:
            return
        message_id = message.message_id
        try:
            if pressed.label and isinstance(message.text, str):
                chosen = text("option_chosen", pressed.language, label=pressed.label)
                edited = f"{message.text}\n\n{chosen}"
                if len(edited) > MAX_TEXT:
                    edited = message.text[: MAX_TEXT - len(chosen) - 3] + "…\n\n" + chosen
                await self._api(
                    pressed.chat_id,
                    lambda: self.bot.edit_message_text(edited, chat_id=pressed.chat_id, message_id=message_id),
                )
            else:
                await self._api(
                    pressed.chat_id,
                    lambda: self.bot.edit_message_reply_markup(chat_id=pressed.chat_id, message_id=message_id),
                )
        except ChannelError as exc:
            log.info("telegram_choice_not_shown", error=str(exc))

    def _first_local(self, update_id: int) -> bool:
        """A channel-only reply is given once per update (the core's receipts cover the rest)."""
        if update_id in self._answered_locally:
            self.metrics.duplicates.labels(CHANNEL).inc()
            return False
        self._answered_locally[update_id] = None
        while len(self._answered_locally) > 10_000:
            self._answered_locally.popitem(last=False)
        return True

    # --- outbound -----------------------------------------------------------------------------------------
    async def send(self, recipient: Recipient, reply: Reply) -> list[str]:
        """Deliver one reply to a chat; RecipientUnreachable when the user blocked the bot."""
        try:
            chat_id = int(recipient.address)
        except ValueError:
            raise ChannelError("not a Telegram chat id", retryable=False, code="bad_address") from None
        return await self._deliver(chat_id, reply)

    async def _deliver_safely(self, chat_id: int, reply: Reply, markup: ReplyMarkup | None = None) -> bool:
        try:
            await self._deliver(chat_id, reply, markup)
        except RecipientUnreachable:
            log.info("telegram_recipient_unreachable")
            return False
        except ChannelError as exc:
            log.error("telegram_reply_lost", error=str(exc), code=exc.code)
            return False
        return True

    async def _deliver(self, chat_id: int, reply: Reply, markup: ReplyMarkup | None = None) -> list[str]:
        """The reply's text (attachments as lines), its options as inline buttons, a geo: location as a
        map pin. `markup` applies when the reply has no options of its own."""
        if reply.options:
            markup = inline_keyboard(reply.options)
        places = [a for a in reply.attachments if a.kind == "location" and _GEO.match(a.url)]
        chunks = split_text(render(reply, skip=places))
        ids: list[str] = []
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            sent = await self._api(
                chat_id,
                lambda chunk=chunk, last=last: self.bot.send_message(
                    chat_id, chunk, reply_markup=markup if last else None
                ),
            )
            ids.append(str(sent.message_id))
            self.metrics.messages_out.labels(CHANNEL).inc()
        for place in places:
            match = _GEO.match(place.url)
            assert match is not None
            latitude, longitude = float(match.group(1)), float(match.group(2))
            sent = await self._api(chat_id, lambda: self.bot.send_location(chat_id, latitude, longitude))
            ids.append(str(sent.message_id))
            self.metrics.messages_out.labels(CHANNEL).inc()
        return ids

    async def _api(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T:
        """One Bot API call for a chat, within the rate limits: 429 pauses every send for retry_after and
        retries; network errors and 5xx retry with backoff; 403 marks the person unreachable."""
        delay = self.retry_delay
        failure: ChannelError | None = None
        for attempt in range(1, self.send_attempts + 1):
            await self.limiter.wait(chat_id)
            try:
                return await call()
            except RetryAfter as exc:
                seconds = _retry_after_seconds(exc)
                self.limiter.pause(seconds)
                self.metrics.send_failures.labels(CHANNEL, "rate_limited").inc()
                log.warning("telegram_rate_limited", retry_after=seconds, attempt=attempt)
                failure = ChannelError("rate limited", retryable=True, retry_after=seconds, code="429")
            except Forbidden as exc:
                self.metrics.send_failures.labels(CHANNEL, "blocked").inc()
                await self._mark_unreachable(chat_id)
                raise RecipientUnreachable(self._describe(exc), code="403") from None
            except BadRequest as exc:
                self.metrics.send_failures.labels(CHANNEL, "bad_request").inc()
                raise ChannelError(self._describe(exc), retryable=False, code="400") from None
            except NetworkError as exc:  # connection failures, timeouts, 5xx
                self.metrics.send_failures.labels(CHANNEL, "network").inc()
                log.warning("telegram_send_retry", error=self._describe(exc), attempt=attempt)
                failure = ChannelError(self._describe(exc), retryable=True, code="network")
                if attempt < self.send_attempts:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.max_retry_delay)
            except TelegramError as exc:  # InvalidToken, Conflict, ChatMigrated: retrying will not help
                self.metrics.send_failures.labels(CHANNEL, "refused").inc()
                raise ChannelError(self._describe(exc), retryable=False, code="refused") from None
        assert failure is not None
        raise failure

    async def _mark_unreachable(self, chat_id: int) -> None:
        try:
            await anyio.to_thread.run_sync(self._mark_unreachable_now, str(chat_id))
        except Exception:  # noqa: BLE001 - the send failed already; this is bookkeeping
            self.metrics.errors.labels("telegram_unreachable").inc()
            log.exception("telegram_mark_unreachable_failed")

    def _mark_unreachable_now(self, address: str) -> None:
        with self.transaction() as session:
            mark_unreachable(session, CHANNEL, address, self.clock.now())


# --- rendering ----------------------------------------------------------------------------------------------
def inline_keyboard(options: list[Option]) -> InlineKeyboardMarkup:
    """One button per row; the button carries the option's payload (≤ 64 bytes)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(o.label, callback_data=payload_of(o))] for o in options])


def share_keyboard(language: str) -> ReplyKeyboardMarkup:
    button = KeyboardButton(text("share_phone_button", language), request_contact=True)
    return ReplyKeyboardMarkup([[button]], one_time_keyboard=True, resize_keyboard=True)


def render(reply: Reply, skip: list[Attachment] | None = None) -> str:
    """The reply's text with each attachment as a line (unless its URL is in the text already)."""
    lines = [reply.text]
    for attachment in reply.attachments:
        if skip and attachment in skip:
            continue
        if attachment.url not in reply.text:
            lines.append(f"{attachment.title or attachment.kind}: {attachment.url}")
    return "\n".join(lines).strip() or "…"


def split_text(said: str, limit: int = MAX_TEXT) -> list[str]:
    """Messages of at most `limit` characters, cut at line ends where possible."""
    chunks: list[str] = []
    while len(said) > limit:
        cut = said.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        chunks.append(said[:cut])
        said = said[cut:].lstrip("\n")
    chunks.append(said)
    return chunks


# --- reading updates ----------------------------------------------------------------------------------------
def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= _MAX_ID:
        raise InvalidUpdate("expected an integer id")
    return value


def _str(value: object) -> str | None:
    """A string field of an update, without what no database stores (NUL, lone surrogates)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidUpdate("expected a string")
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _language_of(user: User) -> str:
    code = user.language_code
    return "ar" if isinstance(code, str) and code.lower().startswith("ar") else "en"


def _display_name(user: User) -> str | None:
    parts = [p for p in (_str(user.first_name), _str(user.last_name)) if p]
    return " ".join(parts)[:200] or None


def _label_of(message: Message | None, data: str) -> str | None:
    """The label of the pressed button, read from the message's keyboard."""
    markup = message.reply_markup if message is not None else None
    if not isinstance(markup, InlineKeyboardMarkup):
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data and isinstance(button.text, str):
                return button.text
    return None


def _media_of(message: Message) -> Media | None:
    if message.photo:
        largest = message.photo[-1]  # Telegram lists the sizes smallest first
        return Media(url=FILE_PREFIX + _file_id(largest.file_id), content_type="image/jpeg")
    for item in (message.document, message.video):
        if item is not None:
            content_type = _str(item.mime_type) or "application/octet-stream"
            return Media(url=FILE_PREFIX + _file_id(item.file_id), content_type=content_type)
    if message.location is not None:
        latitude, longitude = message.location.latitude, message.location.longitude
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (latitude, longitude)):
            raise InvalidUpdate("location without coordinates")
        return Media(url=f"geo:{latitude},{longitude}", content_type="application/geo+uri")
    return None


def _file_id(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 300:
        raise InvalidUpdate("expected a file id")
    return value


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # with PTB_TIMEDELTA=0: ptb warns that retry_after becomes a timedelta
        value = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(0.0, seconds)
