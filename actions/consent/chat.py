"""`stop_notifications` (both ways): which kinds, a confirmation, then the change."""

from __future__ import annotations

from actions.consent import rules, service
from actions.kit import menu
from actions.kit.flows import Flow, Handlers
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from db.models import Customer

CONSENT = Flow("stop_notifications")
CONSENT_KIND = CONSENT.step("kind")
CONSENT_CONFIRM = CONSENT.step("confirm")
handlers = Handlers()


def _names(turn: Turn, kinds: list[str]) -> str:
    """"service reminders, appointment reminders and feedback surveys" / "…، … و…"."""
    names = [turn.t(f"people_kind_{kind}") for kind in kinds]
    if turn.language == "en":
        names = [n[0].lower() + n[1:] for n in names]
    if len(names) == 1:
        return names[0]
    if turn.language == "ar":
        return "، ".join(names[:-1]) + " و" + names[-1]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _customer(turn: Turn) -> Customer:
    assert turn.customer is not None  # the flow starts only for customers
    return turn.customer


@handlers.intent("stop_notifications")
def stop_notifications(turn: Turn) -> Reply:
    if turn.customer is None:
        return menu.need_customer(turn)
    on = rules.wants_them_back(turn.message.text)
    changeable = service.changeable_kinds(turn.customer, on)
    if not changeable:
        return turn.reply("people_notif_all_on" if on else "people_notif_none_on")
    # A proactive message's "stop these reminders" names its kind (scheduler.kinds).
    hinted = [k for k in (turn.hints.get("kind"),) if k in rules.KINDS]
    named = hinted or rules.kinds_named(turn.message.text)
    if named:
        chosen = [k for k in named if k in changeable]
        if not chosen:
            return turn.reply("people_notif_already_on" if on else "people_notif_already_off",
                              kinds=_names(turn, named))
        return _ask_confirm(turn, on, chosen)
    return _ask_kind(turn, on, "people_notif_which_on" if on else "people_notif_which_off")


def _ask_kind(turn: Turn, on: bool, key: str) -> Reply:
    changeable = service.changeable_kinds(_customer(turn), on)
    options = [turn.option(f"kind:{kind}", f"people_kind_{kind}") for kind in changeable]
    if len(changeable) > 1:
        options.append(turn.option("kind:all", "people_kind_all"))
    turn.data = {"on": on}
    return turn.ask(CONSENT_KIND, key, options)


@handlers.step(CONSENT_KIND)
def choose_kind(turn: Turn) -> Reply:
    on = bool(turn.data.get("on"))
    changeable = service.changeable_kinds(_customer(turn), on)
    kind = turn.picked("kind")
    if kind is not None:
        chosen = changeable if kind == "all" else [kind]
    else:
        chosen = rules.kinds_named(turn.said)
    chosen = [k for k in chosen if k in changeable]
    if not chosen:
        return _ask_kind(turn, on, "people_notif_which_again")
    return _ask_confirm(turn, on, chosen)


def _confirm_options(turn: Turn) -> list[Option]:
    return [turn.option("yes", "yes"), turn.option("no", "people_no")]


def _ask_confirm(turn: Turn, on: bool, kinds: list[str], again: bool = False) -> Reply:
    turn.data = {"on": on, "kinds": kinds}
    key = f"people_notif_confirm{'_again' if again else ''}_{'on' if on else 'off'}"
    reply = turn.ask(CONSENT_CONFIRM, key, _confirm_options(turn), kinds=_names(turn, kinds))
    if not on and "recall_notices" in kinds and not again:
        reply.text = f"{turn.t('people_notif_recall_warning')}\n{reply.text}"
    return reply


@handlers.step(CONSENT_CONFIRM, keeps=("affirm", "deny"))
def confirm(turn: Turn) -> Reply:
    on = bool(turn.data.get("on"))
    kinds = [k for k in turn.data.get("kinds", []) if k in rules.KINDS]
    answer = turn.yes_no()
    if not kinds:
        turn.finish()
        return turn.reply("people_notif_unchanged")
    if answer is None:
        return _ask_confirm(turn, on, kinds, again=True)
    turn.finish()
    if not answer:
        return turn.reply("people_notif_unchanged")
    kinds = service.set_consents(turn.session, turn.now, _customer(turn), kinds, on)
    names = _names(turn, kinds)
    if on:
        return turn.reply("people_notif_done_on", kinds=names)
    reply = turn.reply("people_notif_done_off", kinds=names)
    if "recall_notices" in kinds:
        reply.text = f"{reply.text}\n{turn.t('people_notif_recall_after')}"
    return reply
