"""The dispatcher: sends what the outbox holds, through the channels, once.

A pass claims the rows that are due, a batch at a time (the next batch while this one is sent): on
PostgreSQL in one transaction with `FOR UPDATE SKIP LOCKED`, so dispatchers of several app instances never
claim the same row; on SQLite (one writer at a time) read and prepared in a snapshot without the write lock,
then each row marked in a short write transaction only if it is still as it was read. Claiming checks, at send time, what
the scan could not know: the customer opted out of the kind since (cancelled), it is quiet hours in the
dealership's time zone (the row waits for their end, unless its kind is let through), what the message is
about is gone (an appointment cancelled or moved: cancelled). A claimed row is `sending` with a lease of
LEASE; it is sent, then marked `sent` in a transaction of its own. A dispatcher killed between the send and
that mark leaves its one row in flight to be claimed again when the lease ends, and that one message can go
out twice (the platform took it, our record of it was lost); no other row can. Every other row of its
batch was never sent and is claimed again as it was.

Where a message goes: the customer's linked channels, the one they wrote on last first; a channel whose
platform said the person is unreachable (blocked the bot, unsubscribed) is passed over for the next. A
customer who never wrote to us is reached on WhatsApp at their phone number. WhatsApp takes free text only
within 24 hours of the customer's last message: outside it, the kind's approved template
(WHATSAPP_TEMPLATES, per kind and language); a kind without one is not sent there (`no_template`).

Failures: a retryable one (network, 5xx, rate limit) waits with exponential backoff, or the platform's
`retry_after` when longer, and is tried again; after OUTBOX_MAX_ATTEMPTS attempts, or at once for a
refusal that will not change (a bad request), the row is dead-lettered (`dead`): staff see it and can
retry it (`retry_dead`).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any
from collections.abc import Sequence

import anyio.to_thread
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from actions.kit.types import Reply
from bot.channels import Channel, ChannelError, OutsideWindow, Recipient, RecipientUnreachable
from db.models import ChannelIdentity, ChatMessage, ConversationState, Customer, OutboxMessage
from dealerbot.bootstrap import App
from dealerbot.clock import Clock
from dealerbot.logging import get_logger
from scheduler import staff
from scheduler.kinds import KINDS, Context

log = get_logger("scheduler.dispatch")

LEASE = timedelta(minutes=5)
BATCH = 50
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
# The options of a proactive message stay pickable by number or label this long (bot.core).
OPTIONS_VALID = timedelta(days=3)
PROACTIVE_CHANNELS = ("telegram", "whatsapp")


@dataclass
class DispatchResult:
    sent: int = 0
    deferred_quiet_hours: int = 0
    failed: int = 0
    dead: int = 0
    no_template: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def add(self, other: DispatchResult) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass(frozen=True)
class Target:
    channel: str
    address: str
    last_inbound_at: datetime | None
    identity_id: int | None


@dataclass(frozen=True)
class Reach:
    """A claimed batch's customers' channels: their identities, and the WhatsApp numbers that blocked us."""

    identities: dict[int, list[ChannelIdentity]]
    blocked_phones: set[str]


@dataclass
class Work:
    """A claimed row, ready to send: what to say and where, in order of preference."""

    row_id: int
    kind: str
    language: str
    attempts: int
    customer_id: int | None
    reply: Reply
    variables: dict[str, str]
    targets: list[Target] = field(default_factory=list)
    staff: bool = False


def quiet_until(now: datetime, tz: tzinfo, quiet: tuple[time, time] | None) -> datetime | None:
    """The end of the quiet hours `now` falls in (aware), or None when it is not quiet now."""
    if quiet is None:
        return None
    start, end = quiet
    local = now.astimezone(tz)
    at = local.time()
    inside = (start <= at or at < end) if start > end else (start <= at < end)
    if not inside:
        return None
    day = local.date() if at < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz)


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    delay = min(FIRST_RETRY * 2 ** max(0, attempts - 1), MAX_RETRY)
    if retry_after:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


class Dispatcher:
    def __init__(self, app: App, channels: dict[str, Channel], clock: Clock | None = None, batch: int = BATCH):
        self.app = app
        self.channels = channels
        self.clock = clock or app.clock
        self.batch = batch
        self.settings = app.settings
        self.tz = app.settings.tz

    # --- a pass ------------------------------------------------------------------------------------------
    async def run_once(self, max_batches: int | None = None) -> DispatchResult:
        """Send everything due now, batch after batch, until nothing due is left. The next batch is
        claimed while this one is sent, so the channel's rate is not paused by the claim."""
        total = DispatchResult()
        batches = 0
        claimed = asyncio.ensure_future(self._claim_counted())
        while True:
            works, looked_at, counted = await claimed
            total.add(counted)
            batches += 1
            more = looked_at >= self.batch and (max_batches is None or batches < max_batches)
            claimed = asyncio.ensure_future(self._claim_counted()) if more else None
            try:
                for work in works:
                    await self._send(work, total)
            except BaseException:
                if claimed is not None:
                    claimed.cancel()
                raise
            if claimed is None:
                return total

    async def _claim_counted(self) -> tuple[list[Work], int, DispatchResult]:
        counted = DispatchResult()
        works, looked_at = await anyio.to_thread.run_sync(self._claim, counted)
        return works, looked_at, counted

    # --- claiming ----------------------------------------------------------------------------------------
    def _due(self, now: datetime) -> Select[tuple[OutboxMessage]]:
        return (
            select(OutboxMessage)
            .where(OutboxMessage.status.in_(("pending", "sending")), OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(self.batch)
        )

    def _claim(self, result: DispatchResult) -> tuple[list[Work], int]:
        if self.app.engine.dialect.name == "postgresql":
            return self._claim_locked(result)
        return self._claim_checked(result)

    def _claim_locked(self, result: DispatchResult) -> tuple[list[Work], int]:
        """PostgreSQL: the batch's rows locked as they are read (SKIP LOCKED: another dispatcher takes the
        next rows), prepared and marked in that one transaction."""
        now = self.clock.now()
        with self.app.transaction() as session:
            rows = session.scalars(self._due(now).with_for_update(skip_locked=True)).all()
            reach = self._preload(session, rows)
            works = []
            for row in rows:
                if row.status == "sending":
                    log.warning("outbox_lease_expired", row_id=row.id, kind=row.kind, attempts=row.attempts)
                work = self._prepare(session, row, now, result, reach)
                if work is not None:
                    row.status = "sending"
                    row.attempts += 1
                    work.attempts = row.attempts
                    row.next_attempt_at = now + LEASE
                    works.append(work)
            return works, len(rows)

    def _claim_checked(self, result: DispatchResult) -> tuple[list[Work], int]:
        """SQLite (one writer at a time): the batch is read and prepared in a snapshot, without the write
        lock (held for the whole preparation, it kept the recording of each sent message waiting, and the
        channel's rate lost those slots); then, in a short write transaction, each row is marked only if it
        is still as it was read (status, attempts and time), so a row another dispatcher took or changed
        meanwhile is left to it."""
        now = self.clock.now()
        planned: list[tuple[int, tuple[str, int, datetime], dict[str, Any], Work | None, DispatchResult]] = []
        with self.app.snapshot() as session:
            rows = session.scalars(self._due(now)).all()
            reach = self._preload(session, rows)
            for row in rows:
                if row.status == "sending":
                    log.warning("outbox_lease_expired", row_id=row.id, kind=row.kind, attempts=row.attempts)
                was = (row.status, row.attempts, row.next_attempt_at)
                counted = DispatchResult()
                work = self._prepare(session, row, now, counted, reach)
                if work is not None:
                    work.attempts = row.attempts + 1
                    changes: dict[str, Any] = {"status": "sending", "attempts": work.attempts,
                                               "next_attempt_at": now + LEASE}
                else:
                    changes = {"status": row.status, "next_attempt_at": row.next_attempt_at,
                               "last_error": row.last_error}
                planned.append((row.id, was, changes, work, counted))
        works = []
        with self.app.transaction() as session:
            for row_id, (status, attempts, next_attempt_at), changes, work, counted in planned:
                marked = session.connection().execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id, OutboxMessage.status == status,
                           OutboxMessage.attempts == attempts, OutboxMessage.next_attempt_at == next_attempt_at)
                    .values(**changes)
                ).rowcount
                if marked:
                    result.add(counted)
                    if work is not None:
                        works.append(work)
        return works, len(planned)

    @staticmethod
    def _preload(session: Session, rows: Sequence[OutboxMessage]) -> Reach:
        """The batch's customers and their channels in three queries, not four a row (the claim runs beside
        the sending, and its time was taken from the channel's rate)."""
        ids = {row.customer_id for row in rows if row.customer_id is not None and row.channel != "staff"}
        reach = Reach({i: [] for i in ids}, set())
        if not ids:
            return reach
        customers = session.scalars(select(Customer).where(Customer.id.in_(ids))).all()  # into the identity map
        for identity in session.scalars(select(ChannelIdentity).where(
                ChannelIdentity.customer_id.in_(ids), ChannelIdentity.channel.in_(PROACTIVE_CHANNELS))):
            reach.identities[identity.customer_id].append(identity)  # type: ignore[index]
        reach.blocked_phones.update(session.scalars(select(ChannelIdentity.external_id).where(
            ChannelIdentity.channel == "whatsapp", ChannelIdentity.unreachable_since.is_not(None),
            ChannelIdentity.external_id.in_({c.phone for c in customers}))))
        return reach

    def _prepare(self, session: Session, row: OutboxMessage, now: datetime, result: DispatchResult,
                 reach: Reach) -> Work | None:
        if row.channel == "staff":
            return self._prepare_staff(row)
        if row.kind == "staff_chat":
            return self._prepare_conversation(session, row)
        customer = session.get(Customer, row.customer_id) if row.customer_id is not None else None
        kind = KINDS.get(row.kind)
        if customer is None:
            return self._close(row, "cancelled", "the customer is gone")
        if kind is None:
            result.dead += 1
            return self._close(row, "dead", f"no kind {row.kind!r} in this version")
        if kind.consent is not None and not getattr(customer, f"consent_{kind.consent}"):
            return self._close(row, "cancelled", "the customer opted out of this kind")
        until = quiet_until(now, self.tz, self.settings.quiet)
        if until is not None and kind.keeps_quiet_hours and row.kind not in self.settings.quiet_hours_pass:
            row.status = "pending"
            row.next_attempt_at = until
            result.deferred_quiet_hours += 1
            return None
        language = customer.preferred_language
        message = kind.render(Context(session, row, customer, language, self.tz, now))
        if message is None:
            return self._close(row, "cancelled", "what it was about changed or is gone")
        return Work(row.id, row.kind, language, row.attempts, customer.id, message.reply, message.variables,
                    self._targets(customer, reach))

    def _prepare_conversation(self, session: Session, row: OutboxMessage) -> Work | None:
        """A staff member's message in a conversation they took over (actions.handoff.desk): to that
        conversation's own channel, in the language it is held in, at once (a person wrote it now)."""
        identity = session.get(ChannelIdentity, row.payload.get("identity_id"))
        if identity is None or identity.channel not in PROACTIVE_CHANNELS:
            return self._close(row, "cancelled", "the conversation is gone")
        if identity.unreachable_since is not None:
            return self._close(row, "dead", "the customer blocked us or unsubscribed on this channel")
        state = session.scalar(select(ConversationState).where(ConversationState.channel_identity_id == identity.id))
        customer = session.get(Customer, row.customer_id) if row.customer_id is not None else None
        language = (state.language if state is not None and state.language else None) or (
            customer.preferred_language if customer is not None else "en")
        said = str(row.payload.get("text", ""))
        return Work(row.id, row.kind, language, row.attempts, row.customer_id, Reply(said, []), {"1": said[:900]},
                    [Target(identity.channel, identity.external_id, identity.last_inbound_at, identity.id)])

    def _prepare_staff(self, row: OutboxMessage) -> Work | None:
        chat = self.settings.staff_telegram_chat_id
        if not chat:
            return self._close(row, "skipped", "STAFF_TELEGRAM_CHAT_ID is not set (the alert stays in the console)")
        reply = staff.render(row)
        return Work(row.id, row.kind, "en", row.attempts, row.customer_id, reply, {},
                    [Target("telegram", chat, None, None)], staff=True)

    @staticmethod
    def _close(row: OutboxMessage, status: str, why: str) -> None:
        row.status = status
        row.last_error = why
        log.info("outbox_closed", row_id=row.id, kind=row.kind, status=status, why=why)
        return None

    @staticmethod
    def _targets(customer: Customer, reach: Reach) -> list[Target]:
        """The customer's reachable channels, the one they wrote on last first; their phone on WhatsApp
        when they never wrote there (unless that number blocked us). From `_preload`'s rows."""
        identities = [i for i in reach.identities.get(customer.id, []) if i.unreachable_since is None]
        floor = datetime.min.replace(tzinfo=customer.created_at.tzinfo)
        ordered = sorted(identities, key=lambda i: (i.last_inbound_at or floor, i.id), reverse=True)
        targets = [Target(i.channel, i.external_id, i.last_inbound_at, i.id) for i in ordered]
        if not any(t.channel == "whatsapp" for t in targets) and customer.phone not in reach.blocked_phones:
            targets.append(Target("whatsapp", customer.phone, None, None))  # the UAE mobile is the WhatsApp number
        return targets

    # --- sending -----------------------------------------------------------------------------------------
    async def _send(self, work: Work, result: DispatchResult) -> None:
        no_template = False
        unconfigured: list[str] = []
        for target in work.targets:
            channel = self.channels.get(target.channel)
            if channel is None:
                unconfigured.append(target.channel)
                continue
            recipient = Recipient(target.channel, target.address, work.language, target.last_inbound_at)
            try:
                ids, free_text = await self._deliver(channel, recipient, work)
            except RecipientUnreachable as exc:
                log.info("outbox_recipient_unreachable", row_id=work.row_id, channel=target.channel, code=exc.code)
                continue
            except ChannelError as exc:
                await anyio.to_thread.run_sync(self._failed, work, exc, result)
                return
            if ids is None:
                no_template = True
                continue
            await anyio.to_thread.run_sync(self._sent, work, target, ids, free_text)
            result.sent += 1
            return
        if no_template:
            result.no_template += 1
            log.info("outbox_no_template", row_id=work.row_id, kind=work.kind, language=work.language)
            await anyio.to_thread.run_sync(
                self._finish, work.row_id, "skipped",
                f"no WhatsApp template for {work.kind}.{work.language} and no other channel could take it",
            )
        elif unconfigured and len(unconfigured) == len(work.targets):
            error = ChannelError(f"no channel configured to reach them ({', '.join(unconfigured)})", retryable=True)
            await anyio.to_thread.run_sync(self._failed, work, error, result)
        else:
            result.dead += 1
            await anyio.to_thread.run_sync(self._finish, work.row_id, "dead", "no channel reaches the customer")

    async def _deliver(self, channel: Channel, recipient: Recipient, work: Work) -> tuple[list[str] | None, bool]:
        """The platform's message ids and whether it went as free text; None when only a template could
        carry it and the kind has none in this language."""
        if recipient.channel != "whatsapp" or work.staff:
            return await channel.send(recipient, work.reply), True
        in_window = getattr(channel, "in_window", None)
        if in_window is not None and in_window(recipient):
            try:
                return await channel.send(recipient, work.reply), True
            except OutsideWindow:
                pass  # our clock and Twilio's disagree at the edge of the window: a template then
        sid = self.settings.whatsapp_templates.get(f"{work.kind}.{work.language}")
        if sid is None:
            return None, False
        return await channel.send_template(recipient, sid, work.variables), False  # type: ignore[attr-defined]

    # --- recording ---------------------------------------------------------------------------------------
    def _sent(self, work: Work, target: Target, ids: list[str], free_text: bool) -> None:
        now = self.clock.now()
        with self.app.transaction() as session:
            row = session.get(OutboxMessage, work.row_id)
            assert row is not None
            row.status, row.sent_at, row.last_error = "sent", now, None
            row.provider_message_id = ids[0] if ids else None
            if not work.staff:
                row.channel, row.recipient = target.channel, target.address
                self._remember(session, work, target, free_text, now)
        log.info("outbox_sent", row_id=work.row_id, kind=work.kind, channel=target.channel, attempts=work.attempts)

    def _remember(self, session: Session, work: Work, target: Target, free_text: bool, now: datetime) -> None:
        """The message in the customer's transcript; its options pickable in their next message (unless
        they are in the middle of something: an open question keeps its own options)."""
        identity_id = target.identity_id
        if identity_id is None:
            identity = session.scalar(select(ChannelIdentity).where(
                ChannelIdentity.channel == target.channel, ChannelIdentity.external_id == target.address))
            if identity is None:
                identity = ChannelIdentity(customer_id=work.customer_id, channel=target.channel,
                                           external_id=target.address, created_at=now)
                session.add(identity)
                session.flush()
            identity_id = identity.id
        session.add(ChatMessage(channel_identity_id=identity_id, direction="out",
                                text=work.reply.text if free_text else f"[template {work.kind}] {json.dumps(work.variables, ensure_ascii=False)}",
                                media=[], created_at=now))
        if not free_text or not work.reply.options:
            return
        state = session.scalar(select(ConversationState).where(ConversationState.channel_identity_id == identity_id))
        if state is None:
            state = ConversationState(channel_identity_id=identity_id, data={}, language=work.language, updated_at=now)
            session.add(state)
        elif state.flow:
            return
        state.data = {
            **{k: v for k, v in (state.data or {}).items() if k not in {"options", "proposal", "options_until"}},
            "options": [o.as_dict() for o in work.reply.options],
            "free_text": False,
            "options_until": (now + OPTIONS_VALID).isoformat(),
        }
        state.updated_at = now

    def _failed(self, work: Work, error: ChannelError, result: DispatchResult) -> None:
        now = self.clock.now()
        if error.retryable and work.attempts < self.settings.outbox_max_attempts:
            result.failed += 1
            delay = backoff(work.attempts, error.retry_after)
            self._finish(work.row_id, "pending", f"{error} (attempt {work.attempts}; again in {int(delay.total_seconds())} s)",
                         next_attempt_at=now + delay)
            log.warning("outbox_retry", row_id=work.row_id, kind=work.kind, attempts=work.attempts,
                        code=error.code, delay_seconds=int(delay.total_seconds()))
        else:
            result.dead += 1
            why = f"{error} (attempt {work.attempts}{'' if error.retryable else ', not retryable'})"
            self._finish(work.row_id, "dead", why)
            log.error("outbox_dead", row_id=work.row_id, kind=work.kind, attempts=work.attempts, code=error.code)

    def _finish(self, row_id: int, status: str, why: str, next_attempt_at: datetime | None = None) -> None:
        with self.app.transaction() as session:
            values: dict[str, Any] = {"status": status, "last_error": why[:2000]}
            if next_attempt_at is not None:
                values["next_attempt_at"] = next_attempt_at
            session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))


def retry_dead(session: Session, now: datetime, row_ids: list[int] | None = None) -> int:
    """Put dead-lettered rows back in the queue (staff, after fixing what failed): the number requeued."""
    query = update(OutboxMessage).where(OutboxMessage.status == "dead")
    if row_ids is not None:
        query = query.where(OutboxMessage.id.in_(row_ids))
    result = session.execute(query.values(status="pending", attempts=0, next_attempt_at=now))
    return result.rowcount or 0
