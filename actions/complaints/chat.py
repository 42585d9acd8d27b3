"""The complaint conversation (`complaint`: category, description, ticket) and the status of a customer's
complaints and warranty claims (`case_status`). Reads the turn, asks actions.complaints.service and
.rules, renders the answer."""

from __future__ import annotations

from datetime import datetime

from actions.complaints import service
from actions.complaints.rules import COMPLAINT_CATEGORIES, MAX_LISTED, category_in, ticket_in
from actions.complaints.service import Case
from actions.kit import formats, menu, vehicles
from actions.kit.flows import Flow, Handlers, SWITCH_CONFIDENCE
from actions.kit.normalise import word_count
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from actions.warranty.rules import component_label
from dealerbot.logging import get_logger
from db.models import Complaint, Vehicle, WarrantyClaim

COMPLAINT = Flow("complaint")
COMPLAINT_CATEGORY = COMPLAINT.step("category")
COMPLAINT_DESCRIPTION = COMPLAINT.step("description")

handlers = Handlers()

log = get_logger("actions.complaints")


def _when(turn: Turn, moment: datetime) -> str:
    return formats.moment(moment, turn.language, turn.tz, turn.now)


def category_key(category: str) -> str:
    """The text naming a category ("other" is the shared "Something else")."""
    if category not in COMPLAINT_CATEGORIES or category == "other":
        return "something_else"
    return f"complaint_cat_{category}"


# --- complaint ------------------------------------------------------------------------------------------------


def _category_options(turn: Turn) -> list[Option]:
    return [turn.option(f"category:{c}", category_key(c)) for c in COMPLAINT_CATEGORIES]


def _first_option(turn: Turn) -> list[Option]:
    return [turn.option("first", "complaint_use_first")] if turn.data.get("first") else []


# A first message this long is the complaint's description: the customer is not asked to write it again.
# A shorter one with some substance ("I want to complain about the rude staff at Dubai branch") is
# offered as the description with one tap.
DESCRIBED_WORDS = 12
OFFERED_WORDS = 8


@handlers.intent("complaint")
def complaint(turn: Turn) -> Reply | list[Reply]:
    if turn.customer is None:
        return menu.need_customer(turn)
    said = turn.said.strip()
    turn.data = {"first": said[:2000] if word_count(said) >= OFFERED_WORDS else None}
    # Only a description names the category: "a complaint about the service" is asked which topic.
    category = category_in(said) if word_count(said) >= DESCRIBED_WORDS else None
    if category is None:
        return turn.ask(COMPLAINT_CATEGORY, "complaint_ask_category", _category_options(turn))
    return _described(turn, category)


@handlers.step(COMPLAINT_CATEGORY, keeps=("feedback", "warranty_claim", "roadside_assistance"))
def complaint_category(turn: Turn) -> Reply | list[Reply]:
    category = turn.picked("category") or category_in(turn.said)
    if category not in COMPLAINT_CATEGORIES:
        if turn.parse.intent == "roadside_assistance" and turn.parse.confidence >= SWITCH_CONFIDENCE:
            return turn.leave_and_answer()
        return turn.ask(COMPLAINT_CATEGORY, "complaint_ask_category_again", _category_options(turn))
    return _described(turn, category)


def _described(turn: Turn, category: str) -> Reply | list[Reply]:
    """The category is known: open the complaint with the first message when it described the problem,
    else ask for the description (offering the first message with one tap when it said something)."""
    turn.remember(category=category)
    first = turn.data.get("first")
    if first and word_count(first) >= DESCRIBED_WORDS:
        return _open(turn, first)
    return turn.ask(COMPLAINT_DESCRIPTION, "complaint_ask_description", _first_option(turn), free_text=True)


# A description of smoke or failing brakes reads like a roadside call to the NLU; here it is the complaint's
# text (a safety one: same-day answer, and roadside help offered with the ticket).
@handlers.step(COMPLAINT_DESCRIPTION, keeps=("roadside_assistance",))
def complaint_description(turn: Turn) -> Reply | list[Reply]:
    data = turn.data
    if turn.selected is not None and turn.selected.id == "first" and data.get("first"):
        description = data["first"]
    else:
        description = turn.said.strip()
    if word_count(description) < 2:
        return turn.ask(COMPLAINT_DESCRIPTION, "complaint_ask_description_again", _first_option(turn),
                        free_text=True)
    return _open(turn, description)


def _open(turn: Turn, description: str) -> Reply:
    places = [m.url for m in turn.message.media if m.url.startswith("geo:")]
    if places:  # where it happened, as the customer shared it
        description += "\n" + "\n".join(places)
    assert turn.customer is not None
    ticket = service.open_complaint(
        turn.session, turn.now, tz=turn.tz, response_hours=turn.settings.complaint_response_hours,
        customer_id=turn.customer.id, vehicle_id=None, category=turn.data["category"],
        description=description[:5000], photos=[m.url for m in turn.message.media if not m.url.startswith("geo:")],
    )
    turn.finish()
    return complaint_timeline(turn, ticket)


def complaint_timeline(turn: Turn, ticket: Complaint) -> Reply:
    """The acknowledgement of a new complaint: its ticket and when we answer (and resolve) it."""
    if ticket.severity == "safety":
        options = [turn.option("intent:roadside_assistance", "roadside_option")]
        turn.offer(options)
        return turn.reply("complaint_opened_safety", options, ticket=ticket.ticket_id,
                          respond_by=_when(turn, ticket.respond_by))
    hours = turn.settings.complaint_response_hours
    return turn.reply(
        "complaint_opened",
        ticket=ticket.ticket_id,
        respond_by=_when(turn, ticket.respond_by),
        resolve_by=formats.day(ticket.resolve_by.astimezone(turn.tz).date(), turn.language),
        hours=turn.t("complaint_hours", count=hours),
    )


# --- case status ----------------------------------------------------------------------------------------------


def _ticket_asked(turn: Turn) -> tuple[str, int] | None:
    entity = turn.parse.entity("ticket_id")
    said = [entity.value, entity.text] if entity else []
    return ticket_in(*(str(s) for s in said if s is not None), turn.message.text)


def _status_key(case: Case) -> str:
    if case.status == "closed":
        return "case_status_closed"
    kind = "claim" if isinstance(case, WarrantyClaim) else "complaint"
    return f"case_{kind}_status_{case.status}"


def _update_line(turn: Turn, case: Case) -> str:
    note = service.last_note(turn.session, case)
    if note is not None:
        return turn.t("case_status_line_update", when=_when(turn, note.created_at), note=note.body)
    if case.updated_at <= case.created_at:
        return turn.t("case_status_line_received", when=_when(turn, case.created_at))
    return turn.t("case_status_line_changed", when=_when(turn, case.updated_at))


def _deadline_lines(turn: Turn, case: Case) -> list[str]:
    """The next deadline, and an apology when it has passed (the handler has escalated it already)."""
    what, due = service.next_deadline(case)
    if what is None or due is None:
        return [turn.t("case_status_line_no_deadline")]
    lines = [turn.t("case_status_line_deadline", what=turn.t(f"case_deadline_{what}"), when=_when(turn, due))]
    if due < turn.now:
        lines.append(turn.t("case_status_overdue"))
    return lines


def _case_block(turn: Turn, case: Case) -> str:
    if isinstance(case, WarrantyClaim):
        vehicle = turn.session.get(Vehicle, case.vehicle_id)
        title = turn.t("case_status_claim_title", ticket=case.ticket_id,
                       component=component_label(case.component, turn.language),
                       vehicle=vehicles.label(vehicle) if vehicle else "-")
    else:
        title = turn.t("case_status_complaint_title", ticket=case.ticket_id,
                       category=turn.t(category_key(case.category)))
    lines = [title, turn.t("case_status_line_status", status=turn.t(_status_key(case))), _update_line(turn, case)]
    return "\n".join(lines + _deadline_lines(turn, case))


def _answer(turn: Turn, cases: list[Case]) -> list[str]:
    """The blocks of the cases shown; any of them past its deadline is escalated to customer care first
    (the same alert a scheduler job raises with service.overdue_cases)."""
    late = [o for case in cases if (o := service.overdue(case, turn.now)) is not None]
    service.escalate_overdue(turn.session, turn.now, turn.tz, late)
    return [_case_block(turn, case) for case in cases]


@handlers.intent("case_status")
def case_status(turn: Turn) -> Reply:
    if turn.customer is None:
        return menu.need_customer(turn)
    asked = _ticket_asked(turn)
    if asked is not None:
        kind, number = asked
        case = service.case_of(turn.session, turn.customer.id, kind, number)
        if case is None:
            log.info("case_not_found", kind=kind)
            options = [turn.option("intent:case_status", "case_status_list_mine")]
            turn.offer(options)
            return turn.reply("case_status_not_found", options, ticket=f"{kind}-{number}")
        return Reply(_answer(turn, [case])[0])
    cases = service.cases_of(turn.session, turn.now, turn.customer.id)
    if not cases:
        return menu.with_menu(turn, "case_status_none")
    parts = [turn.t("case_status_list_intro"), *_answer(turn, cases[:MAX_LISTED])]
    if len(cases) > MAX_LISTED:
        parts.append(turn.t("case_status_more", count=len(cases) - MAX_LISTED))
    return Reply("\n\n".join(parts))
