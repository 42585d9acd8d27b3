"""The channel-agnostic core: InboundMessage → customer → conversation state → flow or NLU → action → Reply.

One database transaction per message: identify the sender, load the conversation state, continue the
active flow or dispatch the NLU's intent, write the transcript and the new state, commit. The NLU is
asked before the transaction opens, so no database transaction waits on the network. If a handler
fails, the transaction rolls back and a second, small one records the message and the apology, so the
customer always gets an answer and nothing they wrote is lost.
"""

from __future__ import annotations

import hashlib
import time
import re
import unicodedata
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import anyio.to_thread
from sqlalchemy import select, text as sql
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from actions.kit import choice as choices
from actions.kit import menu
from actions.kit.flows import SWITCH_CONFIDENCE, TASK_INTENTS, URGENT_INTENTS, torn_between
from actions.registry import INTENTS, STEPS, WHILE_HELD
from actions.kit.turn import QUESTION_KEYS, Turn, leave_flow, split_intent_option, without_question
from bot import language as lang
from actions.kit.catalog import LANGUAGES, text
from actions.kit.types import InboundMessage, Option, Reply
from bot.metrics import Metrics
from bot.serial import KeyedLocks
from db.models import ChannelIdentity, ChatMessage, ConversationState, Customer, Handoff, InboundReceipt
from db.validation import InvalidValue, normalise_phone
from dealerbot.clock import Clock
from dealerbot.logging import get_logger
from dealerbot.settings import Settings
from nlu.client import FALLBACK_INTENT, NluClient, Parse

log = get_logger("bot.core")

_ABORT_WORDS = {"cancel", "stop", "menu", "main menu", "exit", "quit", "الغاء", "إلغاء", "الغ", "خلاص", "القائمة", "وقف"}
# The intents a channel's command may ask for directly (Telegram /stop, a deep link "/start book_service").
CONSENT_OFF, CONSENT_ON = "consent_off_all", "consent_on_all"
COMMAND_INTENTS = frozenset(INTENTS) | {FALLBACK_INTENT, CONSENT_OFF, CONSENT_ON}

# Whole-message keywords for all proactive messages, as on every messaging service. "stop" inside a
# flow stops the flow instead (it is one of the abort words); the others always apply.
_KEYWORDS_OFF = {"unsubscribe", "stopall", "stop all", "الغاء الاشتراك", "إلغاء الاشتراك", "ايقاف الاشتراك"}
_KEYWORDS_OFF_OUTSIDE_FLOW = {"stop", "ايقاف", "إيقاف"}
_KEYWORDS_ON = {"start", "unstop", "subscribe", "اشتراك", "تفعيل الاشتراك", "ابدأ", "ابدا"}

UnitOfWork = Callable[[], AbstractContextManager[Session]]

# Questions about something else that are answered in the middle of a flow, which then goes on where it
# was ("what time do you close on Friday?" while choosing a time); any other clear new request leaves it.
DETOUR_INTENTS = frozenset({
    "dealership_info", "warranty_coverage", "maintenance_due", "service_history", "recall_check",
    "check_appointment", "case_status",
})

# Intents whose handler acts at once with consequences a wrong guess would hurt: below the switch
# confidence they are asked first ("Shall I pass you to a colleague?"). A hand-off makes the bot go
# quiet, so a misread "I want to rate the service" must not start one. (Opting out and cancelling ask
# for confirmation in their own flows already.) The bar is SWITCH_CONFIDENCE, the confidence at which
# a new request is trusted enough to leave an unfinished flow.
CONFIRM_FIRST = frozenset({"human_agent"})
# Button payloads that answer a question staff asked the customer (actions/appointments/work.py): handled
# even while a person has the conversation (the answer must reach the console, not only the transcript).
ANSWERS_TO_STAFF = ("intent:work_approval?",)
CLOSING_INTENTS = frozenset({"thanks", "goodbye"})
# In the middle of a step, such a guess from this confidence is asked about rather than taken as an answer.
GUESS_CONFIDENCE = 0.5
# A question about something else is answered in the middle of a flow below the switch confidence too,
# when it is written as a question ("btw till what time is al quoz open tonight?" — dealership_info 0.69):
# leaving a flow needs a clear request, answering a question and asking the step again costs nothing.
DETOUR_CONFIDENCE = 0.6
_QUESTION = re.compile(
    r"[?؟]|^\s*(?:what|when|where|which|how|till|until|is|are|do|does|can|could|will|وين|متى|كم|شو|ايش|وش|هل|ليش"
    r"|لين|الى متى|wain|wen|mata|shu|sh|kam|hal|lesh)(?!\w)",
    re.IGNORECASE,
)
# What makes the rest of "no, …" a request of its own: "I want", "I need", "ابي", "abi", "instead".
_REQUEST_CUE = re.compile(
    r"(?<!\w)(?:i\s*want|i\s*need|want\s+to|need\s+to|wanna|i\s*d\s+like|id\s+like|i\s+would\s+like|let\s+me"
    r"|can\s+i|instead|rather|ابي|أبي|ابغى|أبغى|ابغي|أبغي|اريد|أريد|ودي|بغيت|احتاج|أحتاج|بدال|بدل|abi|abgha|abga"
    r"|bghait|bghit|a7taj|ahtaj|areed|biddi)(?!\w)",
    re.IGNORECASE,
)
# A no at the start of a message that goes on ("no, I want …", "لا، أبي …", "la abi …"); see _redirected.
_NO_THEN = re.compile(r"^\s*(?:no+|nope|nah|not that|la+|لا|لأ|لاء|مو|مب|كلا)(?!\w)[\s,.!،؛-]*(?=\w)", re.IGNORECASE)


def _proposal(state: ConversationState, offered: list[Option]) -> Option | None:
    """The one thing the last question proposed, which a plain yes accepts: the option a confirmation
    named, or the only option of an offer outside a flow ("Shall I book it?")."""
    named = state.data.get("proposal")
    if named is not None:
        return next((o for o in offered if o.id == named), None)
    if not state.flow and len(offered) == 1 and offered[0].id.startswith("intent:"):
        return offered[0]
    return None


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", unicodedata.normalize("NFC", text).lower()).split())


def _is_abort(text: str) -> bool:
    return _words(text) in _ABORT_WORDS


def consent_keyword(text: str, in_flow: bool) -> str | None:
    """CONSENT_OFF / CONSENT_ON when the whole message is an opt-out or opt-in keyword."""
    said = _words(text)
    if said in _KEYWORDS_OFF or (said in _KEYWORDS_OFF_OUTSIDE_FLOW and not in_flow):
        return CONSENT_OFF
    if said in _KEYWORDS_ON:
        return CONSENT_ON
    return None


@dataclass
class Answer:
    """What one inbound message produced: the replies, and what a channel needs to render them."""

    replies: list[Reply] = field(default_factory=list)
    language: str = "en"
    # The sender is linked to a customer (a channel asks an unlinked Telegram user to share their phone).
    linked: bool = False
    # The sender wrote to us for the first time on this channel.
    new_identity: bool = False
    # The platform delivered this message before; nothing was done.
    duplicate: bool = False


def conversation_key(channel: str, sender: str) -> int:
    """A stable signed 64-bit number for one conversation (a PostgreSQL advisory lock key)."""
    digest = hashlib.blake2b(f"{channel}:{sender}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Assistant:
    """The core. It depends on what it uses: a unit of work, the settings, the clock and the NLU.

    Messages of one conversation are handled one at a time, in the order they arrived: an in-process
    lock per conversation (FIFO), and on PostgreSQL a transaction-scoped advisory lock, so two app
    instances never run two turns of one conversation at once. The synchronous database turn runs in a
    worker thread, so a slow turn or a lock wait never stalls the event loop and other customers.
    """

    def __init__(
        self,
        *,
        transaction: UnitOfWork,
        settings: Settings,
        clock: Clock,
        nlu: NluClient,
        locks: KeyedLocks | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.transaction = transaction
        self.settings = settings
        self.clock = clock
        self.nlu = nlu
        self.locks = locks or KeyedLocks()
        self.metrics = metrics

    async def handle(self, message: InboundMessage) -> list[Reply]:
        return (await self.respond(message)).replies

    async def respond(self, message: InboundMessage) -> Answer:
        # Taken before anything awaits, so the arrival order is the order of the turns.
        async with self.locks.hold((message.channel, message.sender)):
            now = message.received_at or self.clock.now()
            if message.intent is not None:
                intent = message.intent if message.intent in COMMAND_INTENTS else FALLBACK_INTENT
                parse = Parse(intent, 1.0, text=message.text)
            elif message.payload is not None or not message.text.strip():
                parse = Parse(FALLBACK_INTENT, 0.0, text=message.text, degraded="empty" if not message.payload else None)
            else:
                started = time.perf_counter()
                parse = await self._redirected(message.text, await self.nlu.parse(message.text))
                if self.metrics is not None:
                    self.metrics.nlu_seconds.observe(time.perf_counter() - started)
            return await anyio.to_thread.run_sync(self._turn, message, parse, now)

    async def _redirected(self, said: str, parse: Parse) -> Parse:
        """ "no, I want to cancel it instead", "لا، أبي أشتكي": a no, then a request. The model weighs the no
        against the request (deny 0.83 for "لا، أبي أشتكي", book_service 0.57 for "la abi a7jez maw3ed"), so
        the request alone is classified too, and wins when it is a clear one."""
        negation = _NO_THEN.match(said)
        clear = parse.intent in TASK_INTENTS and parse.confidence >= SWITCH_CONFIDENCE
        if negation is None or clear or parse.degraded is not None:
            return parse
        rest = said[negation.end():]
        if len(re.findall(r"\w+", rest)) < 2 or _REQUEST_CUE.search(rest) is None:
            return parse  # "no just the service" answers the question; "no, I want …" asks something
        request = await self.nlu.parse(rest)
        if request.degraded is not None or request.intent not in TASK_INTENTS or request.confidence < SWITCH_CONFIDENCE:
            return parse
        log.info("request_after_no", intent=request.intent, confidence=round(request.confidence, 3))
        shift = negation.end()
        entities = tuple(replace(e, start=e.start + shift, end=e.end + shift) for e in request.entities)
        return replace(request, text=said, entities=entities)

    def _turn(self, message: InboundMessage, parse: Parse, now: datetime) -> Answer:
        for attempt in range(2):
            try:
                with self.transaction() as session:
                    return self._handle(session, message, parse, now)
            except IntegrityError:
                # Two first messages of one new sender at once: the other created the identity; retry.
                if attempt:
                    break
            except Exception:
                log.exception("handler_failed", channel=message.channel, intent=parse.intent)
                break
        return self._apologise(message, parse, now)

    # --- the turn ---------------------------------------------------------------------------------------
    def _handle(self, session: Session, message: InboundMessage, parse: Parse, now: datetime) -> Answer:
        self._serialise(session, message)
        if message.message_id is not None and not self._first_receipt(session, message, now):
            log.info("duplicate_message_ignored", channel=message.channel)
            return Answer(duplicate=True)
        identity, new_identity = self._identity(session, message, now)
        customer = identity.customer
        state = self._state(session, identity, customer, now, message.language_hint)
        said = message.text or ""

        current = customer.preferred_language if customer else state.language
        switch = lang.switch_request(said)
        language = switch or lang.detect(said, current, known=customer is not None)
        if customer is not None and customer.preferred_language != language:
            customer.preferred_language = language
        state.language = language

        self._log(session, identity, "in", said, now, parse=parse, media=[m.url for m in message.media])
        answer = Answer(language=language, linked=customer is not None, new_identity=new_identity)
        if message.shared_contact:
            # The channel vouched for the sender's own number (a Telegram contact of their own).
            key = "contact_linked" if customer is not None else "contact_unknown"
            reply = Reply(text(key, language, name=customer.name if customer else ""))
            state.updated_at = now
            self._log(session, identity, "out", reply.text, now)
            answer.replies = [reply]
            return answer
        consent = message.intent if message.intent in {CONSENT_OFF, CONSENT_ON} else None
        consent = consent or (consent_keyword(said, bool(state.flow)) if message.payload is None else None)
        if consent is not None:
            on = consent == CONSENT_ON
            if customer is not None:
                set_all_consents(customer, on)
            log.info("consent_keyword", channel=message.channel, given=on, known=customer is not None)
            if not on:
                leave_flow(state)
            reply = Reply(text("notifications_started" if on else "notifications_stopped", language))
            state.updated_at = now
            self._log(session, identity, "out", reply.text, now)
            answer.replies = [reply]
            return answer
        urgent = parse.intent in URGENT_INTENTS and parse.confidence >= SWITCH_CONFIDENCE
        # A button of a question staff sent (work to approve) is answered even while a person has the chat.
        for_staff = (message.payload or "").startswith(ANSWERS_TO_STAFF)
        if not urgent and not for_staff and self._in_handoff(session, identity):
            log.info("message_held_for_staff", channel=message.channel)
            held = Turn(session=session, settings=self.settings, now=now, message=message, identity=identity,
                        customer=customer, state=state, parse=parse, language=language)
            answer.replies = WHILE_HELD(held)
            state.updated_at = now
            for reply in answer.replies:
                self._log(session, identity, "out", reply.text, now)
            return answer

        if state.flow and state.expires_at is not None and state.expires_at <= now:
            log.info("flow_expired", flow=state.flow, step=state.step)
            leave_flow(state)

        offered = [Option.from_dict(o) for o in state.data.get("options", [])]
        idle = timedelta(minutes=self.settings.flow_idle_minutes)
        held = state.data.get("options_until")
        if held is not None and now < datetime.fromisoformat(held):
            pass  # a proactive message's options (scheduler.dispatch): still pickable
        elif not state.flow and state.updated_at is not None and state.updated_at + idle <= now:
            offered = []  # a menu from long ago: a number now does not pick from it
        choice = choices.choose(offered, said, message.payload)
        if choice.option is None and message.payload is not None and message.payload.startswith("intent:"):
            # A button of an earlier message (Telegram keeps them under each message, e.g. two items of work
            # to approve): it names its intent and hints itself, and the handler checks them as for any pick.
            choice = choices.Choice(Option(message.payload, message.payload), "payload")
        if state.flow and state.data.get("free_text") and not choice.certain:
            choice = choices.NOTHING  # a description or an address is not a guess at an option
        turn = Turn(
            session=session,
            settings=self.settings,
            now=now,
            message=message,
            identity=identity,
            customer=customer,
            state=state,
            parse=parse,
            language=language,
            selected=choice.option,
            selected_by=choice.how,
            handler_of=lambda intent: INTENTS.get(intent) or INTENTS[FALLBACK_INTENT],
        )
        proposal = _proposal(state, offered)
        if (
            turn.selected is None
            and proposal is not None
            and not choice.candidates
            and message.payload is None
            and turn.yes_no() is True
        ):
            # A question with one proposal ("Recall work is free. Shall I book it?", "Shall I pass you to
            # a colleague?"): yes takes it.
            turn.selected, turn.selected_by = proposal, "yes"
        if message.intent is not None and state.flow:
            # A channel command (/start, /menu) starts afresh: it does not answer the open question.
            leave_flow(state)
        if switch is not None:
            replies = [turn.reply("language_switched")]
        else:
            replies = self._dispatch(turn, choice.candidates)
        state.updated_at = now
        for reply in replies:
            self._log(session, identity, "out", reply.text, now)
        answer.replies = replies
        return answer

    def _dispatch(self, turn: Turn, candidates: tuple[Option, ...] = ()) -> list[Reply]:
        state = turn.state
        parse = turn.parse
        # A new request said clearly; it wins over a guess at an option from some of its words.
        clear_request = (
            parse.degraded is None and parse.intent in TASK_INTENTS and parse.confidence >= SWITCH_CONFIDENCE
        )
        # "thanks", "bye" at a question: the customer is done with it; asking it again would not help.
        closing = (
            parse.degraded is None and parse.intent in CLOSING_INTENTS and parse.confidence >= SWITCH_CONFIDENCE
            and turn.selected is None and not state.data.get("free_text")
        )
        certain = turn.selected is not None and turn.selected_by in choices.CERTAIN
        # A question about something else: answered, then the step asked again (see _detour).
        detour = (
            parse.intent in DETOUR_INTENTS and bool(state.data.get("question")) and state.data.get("detours", True)
        )
        asked_aside = (
            detour and turn.selected is None and parse.degraded is None and parse.confidence >= DETOUR_CONFIDENCE
            and _QUESTION.search(turn.message.text or "") is not None
        )
        if state.flow:
            handler = STEPS.get((state.flow, state.step or ""))
            if handler is None:
                log.warning("unknown_flow_step", flow=state.flow, step=state.step)
                leave_flow(state)
            elif turn.selected is None and _is_abort(turn.message.text):
                leave_flow(state)
                return [menu.flow_cancelled(turn)]
            elif (
                not certain
                and (clear_request or asked_aside or closing)
                and parse.intent != state.flow
                and parse.intent not in handler.keeps
                and (not state.data.get("free_text") or parse.intent in URGENT_INTENTS or detour)
            ):
                turn.selected = turn.selected_by = None
                if detour:
                    return self._detour(turn, parse.intent)
                log.info("flow_left", flow=state.flow, step=state.step, intent=parse.intent)
                leave_flow(state)
            elif (
                turn.selected is None
                and parse.intent in CONFIRM_FIRST
                and parse.degraded is None
                and GUESS_CONFIDENCE <= parse.confidence < SWITCH_CONFIDENCE
                and parse.intent not in handler.keeps
                and not state.data.get("free_text")
            ):
                # "can i just talk to one of ur guys" at a which-part question (human_agent 0.60): not an
                # answer to it, and not sure enough to act on: asked, the step given up either way.
                log.info("flow_left", flow=state.flow, step=state.step, intent=parse.intent)
                leave_flow(state)
                return [self._confirm_first(turn, parse.intent)]
            elif candidates:
                return [self._which_one(turn, candidates)]
            else:
                return _as_list(handler.handle(turn))
        elif candidates and not clear_request:
            return [self._which_one(turn, candidates)]
        picked = split_intent_option(turn.selected.id) if turn.selected is not None else None
        if picked is not None and not (clear_request and not certain):
            # A menu choice: the option names the intent to run (and may carry hints, e.g. the vehicle).
            intent, turn.hints = picked
            earlier = state.data.get("said_before")
            if earlier:
                # "Did you mean …?" answered: the request is the message that asked it.
                turn.message = replace(turn.message, text=earlier)
            turn.parse = Parse(intent, 1.0, text=turn.message.text)
            turn.selected = None
        else:
            intent = turn.parse.intent
            turn.selected = turn.selected if picked is None else None
            if turn.selected is None and turn.message.intent is None and torn_between(parse) is not None:
                intent = FALLBACK_INTENT  # which of the two is asked (actions.general's fallback)
            if (
                intent in CONFIRM_FIRST
                and parse.degraded is None
                and parse.confidence < SWITCH_CONFIDENCE
                and turn.message.intent is None
            ):
                return [self._confirm_first(turn, intent)]
        state.data = without_question(state.data)
        handler = INTENTS.get(intent) or INTENTS[FALLBACK_INTENT]
        return _as_list(handler(turn))

    def _detour(self, turn: Turn, intent: str) -> list[Reply]:
        """A question about something else in the middle of a flow ("what time do you close?" while
        booking): answered, then the flow's question is asked again where it was. If answering needs a
        question of its own (which car?), the new request wins and the old flow is left."""
        state = turn.state
        saved = (state.flow, state.step, dict(state.data))
        log.info("flow_detour", flow=state.flow, step=state.step, intent=intent)
        leave_flow(state)
        replies = _as_list(INTENTS[intent](turn))
        now_at = STEPS.get((state.flow, state.step or "")) if state.flow else None
        if now_at is not None and not now_at.follow_up:
            return replies
        flow, step, data = saved
        state.flow, state.step = flow, step
        state.data = {**state.data, **{k: v for k, v in data.items() if k == "flow" or k in QUESTION_KEYS}}
        state.expires_at = turn.now + timedelta(minutes=self.settings.flow_idle_minutes)
        for reply in replies:
            reply.options = []  # the numbers of the question asked again are the ones that count
        options = [Option.from_dict(o) for o in data.get("options", [])]
        replies.append(Reply(text("flow_resume", turn.language, question=data["question"]), options))
        return replies

    @staticmethod
    def _confirm_first(turn: Turn, intent: str) -> Reply:
        """An action with consequences, guessed below the switch confidence: asked before it is done."""
        log.info("guess_confirmed_first", intent=intent, confidence=round(turn.parse.confidence, 2))
        options = [turn.option(f"intent:{intent}", f"confirm_{intent}_yes"),
                   turn.option(f"intent:{FALLBACK_INTENT}", "confirm_something_else")]
        turn.offer(options)
        turn.state.data = {**turn.state.data, "proposal": options[0].id}
        return Reply(text(f"confirm_{intent}", turn.language), options)

    @staticmethod
    def _which_one(turn: Turn, candidates: tuple[Option, ...]) -> Reply:
        """Several options fit the reply equally well: ask again with only those, at the same step."""
        log.info("choice_ambiguous", flow=turn.state.flow, step=turn.state.step, candidates=len(candidates))
        turn.state.data = {**turn.state.data, "options": [o.as_dict() for o in candidates]}
        return Reply(text("choice_which_one", turn.language), list(candidates))

    # --- one turn at a time, once per platform message -------------------------------------------------------
    @staticmethod
    def _serialise(session: Session, message: InboundMessage) -> None:
        """On PostgreSQL, wait for any other instance's turn of this conversation (released at commit).
        SQLite transactions are serialised already (BEGIN IMMEDIATE, see db.engine)."""
        if session.get_bind().dialect.name == "postgresql":
            key = conversation_key(message.channel, message.sender)
            session.execute(sql("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    @staticmethod
    def _first_receipt(session: Session, message: InboundMessage, now: datetime) -> bool:
        """Record the platform's message id; False when it was recorded before (one statement)."""
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(InboundReceipt)
            .values(channel=message.channel, message_id=message.message_id, received_at=now)
            .on_conflict_do_nothing(index_elements=["channel", "message_id"])
            .returning(InboundReceipt.id)
        )
        return session.scalar(statement) is not None

    # --- who is writing -----------------------------------------------------------------------------------
    def _identity(
        self, session: Session, message: InboundMessage, now: datetime
    ) -> tuple[ChannelIdentity, bool]:
        identity = session.scalar(
            select(ChannelIdentity)
            .options(joinedload(ChannelIdentity.customer))  # one round trip for the sender and the customer
            .where(ChannelIdentity.channel == message.channel, ChannelIdentity.external_id == message.sender)
        )
        created = identity is None
        if identity is None:
            identity = ChannelIdentity(
                channel=message.channel,
                external_id=message.sender,
                display_name=message.display_name,
                created_at=now,
            )
            session.add(identity)
        if identity.customer_id is None and message.phone:
            # Only a number the channel vouches for links a customer (WhatsApp's sender, a Telegram
            # contact of the sender's own); a sender id is never taken for a phone number.
            try:
                phone = normalise_phone(message.phone)
            except InvalidValue:
                phone = None
            if phone:
                identity.customer = session.scalar(select(Customer).where(Customer.phone == phone))
                if identity.customer is not None:
                    log.info("identity_linked", channel=message.channel)
        if message.display_name and identity.display_name != message.display_name:
            identity.display_name = message.display_name
        identity.last_inbound_at = now
        identity.unreachable_since = None
        session.flush()
        return identity, created

    def _state(
        self,
        session: Session,
        identity: ChannelIdentity,
        customer: Customer | None,
        now: datetime,
        language_hint: str | None = None,
    ) -> ConversationState:
        state = session.scalar(
            select(ConversationState).where(ConversationState.channel_identity_id == identity.id)
        )
        if state is None:
            hint = language_hint if language_hint in LANGUAGES else None
            state = ConversationState(
                channel_identity_id=identity.id,
                data={},
                language=customer.preferred_language if customer else hint or "en",
                updated_at=now,
            )
            session.add(state)
        if state.data is None:
            state.data = {}
        return state

    @staticmethod
    def _in_handoff(session: Session, identity: ChannelIdentity) -> bool:
        # No flush for this read: the transcript rows go out together at the end of the turn.
        with session.no_autoflush:
            return (
                session.scalar(
                    select(Handoff.id).where(
                        Handoff.channel_identity_id == identity.id, Handoff.status.in_(("open", "claimed"))
                    )
                )
                is not None
            )

    @staticmethod
    def _log(
        session: Session,
        identity: ChannelIdentity,
        direction: str,
        said: str,
        now: datetime,
        parse: Parse | None = None,
        media: list[str] | None = None,
    ) -> None:
        session.add(
            ChatMessage(
                channel_identity_id=identity.id,
                direction=direction,
                text=said,
                intent=parse.intent if parse else None,
                confidence=parse.confidence if parse else None,
                media=media or [],
                created_at=now,
            )
        )

    def _apologise(self, message: InboundMessage, parse: Parse, now: datetime) -> Answer:
        language = lang.detect(message.text or "", "en")
        linked = False
        try:
            with self.transaction() as session:
                self._serialise(session, message)
                if message.message_id is not None:
                    self._first_receipt(session, message, now)
                identity, _ = self._identity(session, message, now)
                linked = identity.customer_id is not None
                state = session.scalar(
                    select(ConversationState).where(ConversationState.channel_identity_id == identity.id)
                )
                known = identity.customer.preferred_language if identity.customer else state.language if state else "en"
                language = lang.detect(message.text or "", known)
                reply = Reply(text("error_sorry", language))
                self._log(session, identity, "in", message.text or "", now, parse=parse)
                self._log(session, identity, "out", reply.text, now)
        except Exception:
            log.exception("transcript_failed", channel=message.channel)
            reply = Reply(text("error_sorry", language))
        return Answer(replies=[reply], language=language, linked=linked)


def set_all_consents(customer: Customer, on: bool) -> None:
    """Every kind of proactive message on or off (marketing only ever by an explicit yes: not turned on)."""
    customer.consent_service_reminders = on
    customer.consent_appointment_reminders = on
    customer.consent_recall_notices = on
    customer.consent_feedback_surveys = on
    if not on:
        customer.consent_marketing = False


def _as_list(result: Reply | list[Reply]) -> list[Reply]:
    return result if isinstance(result, list) else [result]
