"""`human_agent`: hand the conversation to staff and say when a colleague will answer."""

from __future__ import annotations

from datetime import datetime

from actions.branches.rules import branch_name
from actions.handoff import service
from actions.kit import menu
from actions.kit.flows import Handlers
from actions.kit.formats import clock, weekday
from actions.kit.turn import Turn
from actions.kit.types import Reply
from dealerbot.logging import get_logger

handlers = Handlers()

log = get_logger("actions.handoff")


def _when(turn: Turn, at: datetime) -> str:
    """"today from 14:30" / "tomorrow from 08:00" / "on Monday from 09:00"."""
    local = at.astimezone(turn.tz)
    days = (local.date() - turn.local_now.date()).days
    if days == 0:
        return turn.t("people_when_today", time=clock(local))
    if days == 1:
        return turn.t("people_when_tomorrow", time=clock(local))
    return turn.t("people_when_day", day=weekday(local.weekday(), turn.language), time=clock(local))


@handlers.intent("human_agent")
def human_agent(turn: Turn) -> Reply:
    """Hand the conversation to staff; the core keeps the bot quiet until they release it."""
    turn.finish()
    turn.offer([])  # nothing offered before the hand-off may be picked by a number after it
    branch = service.customer_branch(turn.session, turn.customer)
    answer_at = service.next_answer_time(turn.session, branch, turn.now, turn.tz) if branch else None
    handoff = service.open_handoff(
        turn.session,
        turn.now,
        turn.identity.id,
        turn.customer.id if turn.customer else None,
        service.handoff_reason(turn.message.text),
    )
    turn.alert_staff(
        "handoff",
        f"handoff:{handoff.id}",
        service.alert_payload(handoff, turn.identity, turn.customer, turn.language, branch,
                              answer_at or turn.now + service.ANSWER_WITHIN),
    )
    log.info("handoff_opened", handoff_id=handoff.id, known=turn.customer is not None,
             branch=branch.code if branch else None)

    if branch is None or answer_at is None:
        message = turn.t("people_handoff_no_hours")
    elif answer_at <= turn.now:
        minutes = int(service.ANSWER_WITHIN.total_seconds() // 60)
        message = turn.t("people_handoff_now", branch=branch_name(branch, turn.language), minutes=minutes)
    else:
        message = turn.t("people_handoff_later", branch=branch_name(branch, turn.language),
                         when=_when(turn, answer_at), emergency=branch.emergency_phone)
    if turn.customer is None:
        message = f"{message}\n{turn.t('people_handoff_unknown_hint')}"
    turn.state.data = {**turn.state.data, "held_note_at": turn.now.isoformat()}
    return Reply(message)


def while_held(turn: Turn) -> list[Reply]:
    """A message while staff have the conversation: kept for them. While nobody has taken it yet, the
    customer is told again that a person will answer and when (at most every HELD_NOTE_EVERY, so a burst
    gets one note), and "assistant" / "المساعد" takes the conversation back from the queue."""
    handoff = service.waiting_handoff(turn.session, turn.identity.id)
    if handoff is None:
        return []  # a colleague is on it: the bot says nothing in their conversation
    if service.wants_assistant(turn.said):
        service.release(handoff, turn.now)
        turn.state.data = {k: v for k, v in turn.state.data.items() if k != "held_note_at"}
        log.info("handoff_withdrawn", handoff_id=handoff.id)
        return [menu.with_menu(turn, "people_back_to_assistant")]
    noted = turn.state.data.get("held_note_at")
    if noted is not None and datetime.fromisoformat(noted) + service.HELD_NOTE_EVERY > turn.now:
        return []
    turn.state.data = {**turn.state.data, "held_note_at": turn.now.isoformat()}
    branch = service.customer_branch(turn.session, turn.customer)
    answer_at = service.next_answer_time(turn.session, branch, turn.now, turn.tz) if branch else None
    if answer_at is None or answer_at <= turn.now:
        due = max(handoff.created_at + service.ANSWER_WITHIN, turn.now)
        return [turn.reply("people_held_soon", time=clock(due.astimezone(turn.tz)))]
    return [turn.reply("people_held_later", when=_when(turn, answer_at))]
