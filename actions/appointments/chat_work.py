"""The customer's answer on work found during their visit (the options of a `work_approval` message)."""

from __future__ import annotations

from actions.appointments import work
from actions.kit import formats
from actions.kit.flows import Handlers
from actions.kit.types import Reply
from actions.kit.turn import Turn
from dealerbot.logging import get_logger

log = get_logger("actions.appointments.work")

handlers = Handlers()


@handlers.intent("work_approval")
def answer(turn: Turn) -> Reply:
    item_id, said = turn.hints.get("item", ""), turn.hints.get("answer")
    if not item_id.isdigit() or said not in ("yes", "no"):
        return turn.reply("work_unknown")
    try:
        item = work.decide(turn.session, turn.customer.id if turn.customer else None, int(item_id), said == "yes", turn.now)
    except work.WorkError as exc:
        log.info("work_answer_refused", item_id=item_id, why=str(exc))
        return turn.reply("work_decided_already" if "decided" in str(exc) else "work_unknown")
    log.info("work_answered", item_id=item.id, status=item.status)
    price = formats.money(item.price_aed, turn.language)
    return turn.reply("work_approved" if item.status == "approved" else "work_declined",
                      work=item.description, price=price)
