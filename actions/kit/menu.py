"""The main menu, which any domain may end an answer with, and the answers every domain shares."""

from __future__ import annotations

from actions.kit.turn import Turn
from actions.kit.types import Option, Reply

MENU_INTENTS = (
    "book_service",
    "check_appointment",
    "warranty_coverage",
    "complaint",
    "case_status",
    "service_history",
    "dealership_info",
    "human_agent",
)
# What an unknown sender may do: nothing that shows customer data.
PUBLIC_MENU_INTENTS = ("dealership_info", "human_agent")


def menu_options(turn: Turn) -> list[Option]:
    names = MENU_INTENTS if turn.customer is not None else PUBLIC_MENU_INTENTS
    return [turn.option(f"intent:{name}", f"menu_{name}") for name in names]


def with_menu(turn: Turn, key: str, **values: object) -> Reply:
    """A reply followed by the main menu; a number or label picks an item next turn."""
    options = menu_options(turn)
    turn.offer(options)
    return turn.reply(key, options, **values)


def need_customer(turn: Turn) -> Reply:
    """The answer to an unknown sender asking for customer data: general help and a person instead."""
    return with_menu(turn, "need_customer")


def flow_cancelled(turn: Turn) -> Reply:
    return with_menu(turn, "flow_cancelled")
