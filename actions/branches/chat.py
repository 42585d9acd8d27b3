"""`dealership_info`: the branches' addresses, phones, map links and hours (open to unknown senders)."""

from __future__ import annotations

from actions.branches import rules, service
from actions.kit.flows import Handlers
from actions.kit.turn import Turn
from actions.kit.types import Attachment, Reply
from db.models import Branch

handlers = Handlers()


def branch_reply(turn: Turn, branch: Branch) -> Reply:
    url = rules.map_url(branch)
    return Reply(
        service.branch_card(branch, turn.local_now, turn.language),
        attachments=[Attachment(kind="location", url=url, title=rules.branch_name(branch, turn.language))],
    )


@handlers.intent("dealership_info")
def dealership_info(turn: Turn) -> list[Reply]:
    """The branch the message names; else every branch, the customer's own first."""
    branches = service.all_branches(turn.session)
    if not branches:
        return [turn.reply("info_no_branches")]
    named = rules.branch_named(branches, turn.message.text, turn.parse.values("branch"))
    if named is not None:
        return [branch_reply(turn, named)]
    home = rules.home_branch_id(turn.vehicles())
    branches.sort(key=lambda b: (b.id != home, b.id))
    return [turn.reply("info_intro_all"), *(branch_reply(turn, b) for b in branches)]
