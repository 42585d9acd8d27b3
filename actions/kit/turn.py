"""One turn of a conversation, as an action handler sees it: who, what they said, and how to answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.kit.alerts import alert_staff
from actions.kit.catalog import LANGUAGES, text
from actions.kit.types import InboundMessage, Option, Reply
from db.models import ChannelIdentity, ConversationState, Customer, Vehicle
from dealerbot.settings import Settings
from nlu.client import Parse

if TYPE_CHECKING:
    from actions.kit.flows import Step


# What the state keeps of the question last asked: the options offered, whether free text answers it,
# whether a question about something else may be answered in between, its text, and the one option a
# plain yes accepts. Cleared together whenever the question is no longer open.
# "options_until": the options of a proactive message (scheduler.dispatch) stay pickable until then (ISO
# time), longer than a menu's flow_idle_minutes: a reminder is often answered hours later.
QUESTION_KEYS = frozenset({"options", "free_text", "detours", "question", "proposal", "said_before", "options_until"})

# A yes/no answer comes from the option picked, plain yes/no words, or the model when it is sure enough.
# A hedge ("maybe", "not sure", "مدري", "يمكن") is neither, whatever the model says: nothing is done on a guess.
YES_NO_CONFIDENCE = 0.5
_HEDGE = re.compile(
    r"(?i)\b(?:maybe|mayb|perhaps|not sure|unsure|dunno|don'?t know|idk|probably|might|yimkin|madri|ma adri)\b"
    r"|ربما|يمكن|مدري|ما ادري|ما أدري|(?:مو|مب|مش|ماني|مانيب) متا?أ?كد|يجوز"
)
_YES_WORDS = {"y", "yes", "yeah", "yep", "sure", "ok", "okay", "نعم", "ايوه", "ايوا", "اي", "اكيد", "أكيد", "تمام", "ماشي"}
_NO_WORDS = {"n", "no", "nope", "no thanks", "لا", "لا شكرا", "لا شكراً"}
# "Not now" at a question whether to go ahead is a no: "I'll hold off for now", "سأؤجل الحجز حالياً".
_NOT_NOW = re.compile(
    r"(?i)\b(?:not now|not yet|hold off|put (?:it )?on hold|postpone|later|another time|some other time|leave it"
    r"|forget it|never ?mind|don'?t book|ba3dain|ba3den|mo al7een|mu al7een|mb al7een)\b"
    r"|(?:سأؤجل|ساؤجل|أؤجل|اؤجل|أجل|اجل|تأجيل|بعدين|مو الحين|مب الحين|مش الحين|ليس الآن|ليس الان|وقت آخر|وقت ثاني"
    r"|خلها بعدين|انسى|انسي|لا تحجز|ما ابي احجز|ما أبي أحجز)"
)


@dataclass
class Turn:
    session: Session
    settings: Settings
    now: datetime  # aware, UTC
    message: InboundMessage
    identity: ChannelIdentity
    customer: Customer | None
    state: ConversationState
    parse: Parse
    language: str
    # The option the customer picked from the ones offered last turn, if any, and how it was understood
    # (actions.kit.choice: "payload", "number", "ordinal", "label" are certain; "words" is a good guess).
    selected: Option | None = None
    selected_by: str | None = None
    replies: list[Reply] = field(default_factory=list)
    # What a menu option carried besides its intent ("intent:book_service?vehicle=12" → {"vehicle": "12"}).
    hints: dict[str, str] = field(default_factory=dict)
    # The core's dispatch: the handler of an intent (the fallback's for an unknown one), set by the core so
    # a domain can hand a message to another domain without importing it (see `answer_as`).
    handler_of: Callable[[str], Callable[[Turn], Reply | list[Reply]]] | None = None

    def answer_as(self, intent: str) -> Reply | list[Reply]:
        """Answer this message as the handler of `intent` would (e.g. a breakdown said inside a flow)."""
        if self.handler_of is None:
            raise RuntimeError("the turn was built without the core's dispatch")
        return self.handler_of(intent)(self)

    def leave_and_answer(self) -> Reply | list[Reply]:
        """End the current flow and answer the message as if no flow were active: the intent of a picked
        menu option, else the NLU's intent."""
        self.finish()
        picked = split_intent_option(self.selected.id) if self.selected is not None else None
        if picked is not None:
            name, self.hints = picked
            self.selected = None
        else:
            name = self.parse.intent
        return self.answer_as(name)

    @property
    def said(self) -> str:
        """The text of the message ("" for a message without text)."""
        return self.message.text or ""

    def picked(self, prefix: str) -> str | None:
        """The value of the option picked when its id is "<prefix>:<value>" (`picked("finance")` is "refinance"
        for "finance:refinance"); None when no option was picked or it is of another kind."""
        if self.selected is None or not self.selected.id.startswith(f"{prefix}:"):
            return None
        return self.selected.id.removeprefix(f"{prefix}:")

    def yes_no(self) -> bool | None:
        """True or False when the customer answered yes or no (an option, in words), else None."""
        if self.selected is not None:
            return {"yes": True, "no": False}.get(self.selected.id)
        said = self.said
        if _HEDGE.search(said):
            return None
        folded = " ".join(re.sub(r"[^\w\s]", " ", said.lower()).split())
        if folded in _YES_WORDS or folded in _NO_WORDS:
            return folded in _YES_WORDS
        if folded and all(ch.isdigit() or ch.isspace() for ch in folded):
            return None  # "7" (not one of the options): a number is neither yes nor no, whatever the NLU guessed
        if _NOT_NOW.search(said) and (folded.split() or [""])[0] not in _YES_WORDS:
            return False
        if self.parse.degraded is None and self.parse.confidence >= YES_NO_CONFIDENCE:
            return {"affirm": True, "deny": False}.get(self.parse.intent)
        return None

    # --- time ---------------------------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.tz)

    # --- text ---------------------------------------------------------------------------------------
    def t(self, key: str, **values: Any) -> str:
        return text(key, self.language, **values)

    def reply(self, key: str, options: Sequence[Option] = (), **values: Any) -> Reply:
        return Reply(self.t(key, **values), list(options))

    def option(self, id: str, key: str, **values: Any) -> Option:
        """An option whose label is a catalog text; typed in the other language, it is picked too."""
        other = tuple(text(key, language, **values) for language in LANGUAGES if language != self.language)
        return Option(id, self.t(key, **values), other)

    def intent_option(self, intent: str, key: str, **hints: Any) -> Option:
        """An option that starts `intent`, carrying hints (e.g. vehicle=12) the handler finds in turn.hints."""
        query = urlencode({k: v for k, v in hints.items() if v is not None})
        return self.option(f"intent:{intent}" + (f"?{query}" if query else ""), key)

    # --- flows ----------------------------------------------------------------------------------------
    @property
    def flow(self) -> str | None:
        return self.state.flow

    @property
    def step(self) -> str | None:
        return self.state.step

    @property
    def data(self) -> dict[str, Any]:
        """The active flow's data; assign to `turn.data` or call `remember` so the change is saved."""
        return dict(self.state.data.get("flow", {}))

    @data.setter
    def data(self, value: dict[str, Any]) -> None:
        self.state.data = {**self.state.data, "flow": value}

    def remember(self, **values: Any) -> None:
        self.data = {**self.data, **values}

    def ask(
        self, step: Step, key: str, options: Sequence[Option] = (), free_text: bool = False,
        detours: bool = False, **values: Any
    ) -> Reply:
        """Move the flow to `step`, offer options and answer with the text of a key:
        `turn.ask(BOOK_SLOT, "appt_ask_slot", options, free_text=True, detours=True, branch=...)`.

        With free_text the next message is the step's answer whatever the NLU makes of it (a
        description, an address); otherwise a clear new request leaves the flow. With detours too, a
        clear question about something else ("when does my warranty end?") is still answered and the
        step asked again (a day and time is typed, a question is not one).
        """
        flow, step_name = step.key
        self.state.flow = flow
        self.state.step = step_name
        question = self.t(key, **values)
        self.state.data = {
            **without_question(self.state.data),
            "options": [o.as_dict() for o in options],
            "free_text": free_text,
            "detours": detours or not free_text,
            "question": question,  # asked again after a question about something else (see bot.core)
        }
        idle = timedelta(minutes=self.settings.flow_idle_minutes)
        self.state.expires_at = self.now + idle
        return Reply(question, list(options))

    def finish(self) -> None:
        """End the active flow; the next message starts afresh."""
        leave_flow(self.state)

    @property
    def offered(self) -> list[Option]:
        """The options offered with the last question (what a number or a word picks from)."""
        return [Option.from_dict(o) for o in self.state.data.get("options", [])]

    def offer(self, options: Sequence[Option]) -> None:
        """Offer options outside a flow (a menu): a number or label picks one next turn."""
        kept = {k: v for k, v in self.state.data.items() if k not in {"proposal", "options_until"}}
        self.state.data = {**kept, "options": [o.as_dict() for o in options], "free_text": False}

    # --- the customer's data --------------------------------------------------------------------------
    def vehicles(self) -> list[Vehicle]:
        """The customer's own vehicles (none for an unknown sender)."""
        if self.customer is None:
            return []
        return list(
            self.session.scalars(
                select(Vehicle).where(Vehicle.customer_id == self.customer.id).order_by(Vehicle.id)
            )
        )

    def alert_staff(self, kind: str, key: str, payload: dict[str, Any], recipient: str = "service-desk") -> None:
        """Queue an alert for staff (console and notifications); the key makes it happen once
        (actions.kit.alerts.alert_staff, for code without a turn)."""
        alert_staff(self.session, self.now, customer_id=self.customer.id if self.customer else None, kind=kind,
                    key=key, payload=payload, recipient=recipient)


def leave_flow(state: ConversationState) -> None:
    """The one way out of a flow (a handler finishing, the core on a new request, STOP, a command):
    no flow, no step, no flow data and no options left to pick from."""
    state.flow = None
    state.step = None
    state.expires_at = None
    state.data = {k: v for k, v in without_question(state.data or {}).items() if k != "flow"}


def without_question(data: dict[str, Any]) -> dict[str, Any]:
    """The state's data without the question last asked (QUESTION_KEYS)."""
    return {k: v for k, v in data.items() if k not in QUESTION_KEYS}


def split_intent_option(option_id: str) -> tuple[str, dict[str, str]] | None:
    """("book_service", {"vehicle": "12"}) for "intent:book_service?vehicle=12"; None for other options."""
    if not option_id.startswith("intent:"):
        return None
    name, _, query = option_id.removeprefix("intent:").partition("?")
    return name, dict(parse_qsl(query))
