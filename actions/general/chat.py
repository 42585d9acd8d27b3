"""Small talk and the fallback: greetings, thanks, goodbye, yes/no out of context, out of scope."""

from __future__ import annotations

from actions.advice.chat import advise
from actions.kit.menu import with_menu
from actions.kit.types import Reply
from actions.kit.flows import Handlers, torn_between
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
    # "what tyre pressure in this heat?" may read as out of scope to the model: the advice articles first.
    return advise(turn) or with_menu(turn, "out_of_scope_reply")


@handlers.intent("nlu_fallback")
def fallback(turn: Turn) -> Reply:
    if turn.parse.degraded is None and turn.said.strip() and (answer := advise(turn, unsure=True)) is not None:
        return answer
    torn = torn_between(turn.parse)
    if torn is not None:
        options = [turn.option(f"intent:{intent}", f"intent_label_{intent}") for intent in torn]
        turn.offer(options)
        # The request the customer picks is answered from this message (its car, part, day...).
        turn.state.data = {**turn.state.data, "said_before": turn.said[:2000]}
        return turn.reply("did_you_mean", options)
    return with_menu(turn, "fallback_degraded" if turn.parse.degraded not in (None, "empty") else "fallback_reply")
