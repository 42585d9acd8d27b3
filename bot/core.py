"""The channel-agnostic core: InboundMessage → customer → conversation state → flow or NLU → action → Reply.

One database transaction per message: identify the sender, load the conversation state, continue the
active flow or dispatch the NLU's intent, write the transcript and the new state, commit. The NLU is
asked before the transaction opens, so no database transaction waits on the network. If a handler
fails, the transaction rolls back and a second, small one records the message and the apology, so the
customer always gets an answer and nothing they wrote is lost.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import actions.all  # noqa: F401  (registers every handler and its texts)
from actions import general
from actions.registry import INTENTS, STEPS, SWITCH_CONFIDENCE, TASK_INTENTS, URGENT_INTENTS
from actions.turn import Turn, split_intent_option
from bot import language as lang
from bot import options as opts
from bot.messages import text
from bot.types import InboundMessage, Option, Reply
from db.models import ChannelIdentity, ChatMessage, ConversationState, Customer, Handoff
from db.validation import InvalidValue, normalise_phone
from dealerbot.bootstrap import App
from dealerbot.logging import get_logger
from nlu.client import FALLBACK_INTENT, NluClient, Parse

log = get_logger("bot.core")

_ABORT_WORDS = {"cancel", "stop", "menu", "main menu", "exit", "quit", "الغاء", "إلغاء", "الغ", "خلاص", "القائمة", "وقف"}
_CHANNEL_PHONE = {"console", "whatsapp"}  # channels whose sender id is the phone number itself


def _is_abort(text: str) -> bool:
    said = " ".join(re.sub(r"[^\w\s]", " ", unicodedata.normalize("NFC", text).lower()).split())
    return said in _ABORT_WORDS


class Assistant:
    def __init__(self, app: App, nlu: NluClient) -> None:
        self.app = app
        self.nlu = nlu

    async def handle(self, message: InboundMessage) -> list[Reply]:
        now = message.received_at or self.app.clock.now()
        if message.payload is not None or not message.text.strip():
            parse = Parse(FALLBACK_INTENT, 0.0, text=message.text, degraded="empty" if not message.payload else None)
        else:
            parse = await self.nlu.parse(message.text)
        for attempt in range(2):
            try:
                with self.app.transaction() as session:
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
    def _handle(self, session: Session, message: InboundMessage, parse: Parse, now: datetime) -> list[Reply]:
        identity = self._identity(session, message, now)
        customer = identity.customer
        state = self._state(session, identity, customer, now)
        said = message.text or ""

        current = customer.preferred_language if customer else state.language
        switch = lang.switch_request(said)
        language = switch or lang.detect(said, current)
        if customer is not None and customer.preferred_language != language:
            customer.preferred_language = language
        state.language = language

        self._log(session, identity, "in", said, now, parse=parse, media=[m.url for m in message.media])
        urgent = parse.intent in URGENT_INTENTS and parse.confidence >= SWITCH_CONFIDENCE
        if not urgent and self._in_handoff(session, identity):
            state.updated_at = now
            log.info("message_held_for_staff", channel=message.channel)
            return []

        if state.flow and state.expires_at is not None and state.expires_at <= now:
            log.info("flow_expired", flow=state.flow, step=state.step)
            self._clear_flow(state)

        offered = [Option(o["id"], o["label"]) for o in state.data.get("options", [])]
        idle = timedelta(minutes=self.app.settings.flow_idle_minutes)
        if not state.flow and state.updated_at is not None and state.updated_at + idle <= now:
            offered = []  # a menu from long ago: a number now does not pick from it
        selected = opts.select(offered, said, message.payload)
        turn = Turn(
            session=session,
            settings=self.app.settings,
            now=now,
            message=message,
            identity=identity,
            customer=customer,
            state=state,
            parse=parse,
            language=language,
            selected=selected,
        )
        if switch is not None:
            replies = [turn.reply("language_switched")]
        else:
            replies = self._dispatch(turn)
        state.updated_at = now
        for reply in replies:
            self._log(session, identity, "out", reply.text, now)
        return replies

    def _dispatch(self, turn: Turn) -> list[Reply]:
        state = turn.state
        if state.flow:
            handler = STEPS.get((state.flow, state.step or ""))
            if handler is None:
                log.warning("unknown_flow_step", flow=state.flow, step=state.step)
                self._clear_flow(state)
            elif turn.selected is None and _is_abort(turn.message.text):
                self._clear_flow(state)
                return [general.flow_cancelled(turn)]
            elif (
                turn.selected is None
                and (not state.data.get("free_text") or turn.parse.intent in URGENT_INTENTS)
                and turn.parse.degraded is None
                and turn.parse.intent in TASK_INTENTS
                and turn.parse.intent != state.flow
                and turn.parse.intent not in handler.keeps
                and turn.parse.confidence >= SWITCH_CONFIDENCE
            ):
                log.info("flow_left", flow=state.flow, step=state.step, intent=turn.parse.intent)
                self._clear_flow(state)
            else:
                return _as_list(handler.handle(turn))
        picked = split_intent_option(turn.selected.id) if turn.selected is not None else None
        if picked is not None:
            # A menu choice: the option names the intent to run (and may carry hints, e.g. the vehicle).
            intent, turn.hints = picked
            turn.parse = Parse(intent, 1.0, text=turn.message.text)
            turn.selected = None
        else:
            intent = turn.parse.intent
        state.data = {k: v for k, v in state.data.items() if k not in {"options", "free_text"}}
        handler = INTENTS.get(intent) or INTENTS[FALLBACK_INTENT]
        return _as_list(handler(turn))

    # --- who is writing -----------------------------------------------------------------------------------
    def _identity(self, session: Session, message: InboundMessage, now: datetime) -> ChannelIdentity:
        identity = session.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == message.channel, ChannelIdentity.external_id == message.sender
            )
        )
        if identity is None:
            identity = ChannelIdentity(
                channel=message.channel,
                external_id=message.sender,
                display_name=message.display_name,
                created_at=now,
            )
            session.add(identity)
        if identity.customer_id is None:
            vouched = message.phone or (message.sender if message.channel in _CHANNEL_PHONE else None)
            if vouched:
                try:
                    phone = normalise_phone(vouched)
                except InvalidValue:
                    phone = None
                if phone:
                    identity.customer = session.scalar(select(Customer).where(Customer.phone == phone))
        identity.last_inbound_at = now
        session.flush()
        return identity

    def _state(
        self, session: Session, identity: ChannelIdentity, customer: Customer | None, now: datetime
    ) -> ConversationState:
        state = session.scalar(
            select(ConversationState).where(ConversationState.channel_identity_id == identity.id)
        )
        if state is None:
            state = ConversationState(
                channel_identity_id=identity.id,
                data={},
                language=customer.preferred_language if customer else "en",
                updated_at=now,
            )
            session.add(state)
        if state.data is None:
            state.data = {}
        return state

    @staticmethod
    def _in_handoff(session: Session, identity: ChannelIdentity) -> bool:
        return (
            session.scalar(
                select(Handoff.id).where(
                    Handoff.channel_identity_id == identity.id, Handoff.status.in_(("open", "claimed"))
                )
            )
            is not None
        )

    @staticmethod
    def _clear_flow(state: ConversationState) -> None:
        state.flow = None
        state.step = None
        state.expires_at = None
        state.data = {k: v for k, v in (state.data or {}).items() if k not in {"flow", "options", "free_text"}}

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

    def _apologise(self, message: InboundMessage, parse: Parse, now: datetime) -> list[Reply]:
        language = lang.detect(message.text or "", "en")
        try:
            with self.app.transaction() as session:
                identity = self._identity(session, message, now)
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
        return [reply]


def _as_list(result: Reply | list[Reply]) -> list[Reply]:
    return result if isinstance(result, list) else [result]
