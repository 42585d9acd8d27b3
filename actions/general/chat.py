"""Small talk and the fallback: greetings, thanks, goodbye, yes/no out of context, out of scope."""

from __future__ import annotations

from actions.kit.menu import with_menu
from actions.kit.types import Reply
from actions.kit.flows import Handlers
from actions.kit.turn import Turn

handlers = Handlers()


@handlers.intent("greet")
def greet(turn: Turn) -> Reply:
    if turn.customer is None:
        return with_menu(turn, "greet_unknown_short")
    return with_menu(turn, "greet_known", name=turn.customer.name)


@handlers.intent("goodbye")
def goodbye(turn: Turn) -> Reply:
    return turn.reply("goodbye_reply")


@handlers.intent("thanks")
def thanks(turn: Turn) -> Reply:
    return turn.reply("thanks_reply")


@handlers.intent("affirm")
def affirm(turn: Turn) -> Reply:
    return with_menu(turn, "affirm_reply")


@handlers.intent("deny")
def deny(turn: Turn) -> Reply:
    return turn.reply("deny_reply")


@handlers.intent("out_of_scope")
def out_of_scope(turn: Turn) -> Reply:
    return with_menu(turn, "out_of_scope_reply")


@handlers.intent("nlu_fallback")
def fallback(turn: Turn) -> Reply:
    return with_menu(turn, "fallback_degraded" if turn.parse.degraded not in (None, "empty") else "fallback_reply")
