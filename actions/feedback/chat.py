"""The feedback conversation (`feedback`): a rating 1-5 and an optional comment, in one message or
asked for in turn; a low rating opens a complaint. Reads the turn, asks actions.feedback.rules and
.service, renders the answer."""

from __future__ import annotations

from actions.feedback.rules import asks_to_rate, comment_in, is_no_comment, parse_rating
from actions.feedback.service import save_feedback
from actions.kit import formats, menu
from actions.kit.flows import Flow, Handlers
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply

FEEDBACK = Flow("feedback")
FEEDBACK_RATING = FEEDBACK.step("rating")
FEEDBACK_COMMENT = FEEDBACK.step("comment")

handlers = Handlers()


def _rating_options(turn: Turn) -> list[Option]:
    return [turn.option(f"rating:{n}", f"feedback_rating_{n}") for n in range(1, 6)]


def _ask_comment(turn: Turn) -> Reply:
    return turn.ask(FEEDBACK_COMMENT, "feedback_ask_comment", [turn.option("skip", "feedback_no_comment")],
                    free_text=True)


@handlers.intent("feedback")
def feedback(turn: Turn) -> Reply:
    if turn.customer is None:
        return menu.need_customer(turn)
    said = turn.said
    # A survey's score button carries the score and the visit (scheduler.kinds.feedback_survey).
    hinted = turn.hints.get("rating")
    rating = int(hinted) if hinted in {"1", "2", "3", "4", "5"} else parse_rating(said)
    # "I'd like to rate my last visit" asks to give feedback; it is not the comment (a long message is).
    comment = None if hinted else comment_in(said) if rating is not None or not asks_to_rate(said) else None
    appointment = turn.hints.get("appointment")
    turn.data = {"rating": rating, "comment": comment,
                 "appointment": int(appointment) if appointment and appointment.isdigit() else None}
    if rating is None:
        return turn.ask(FEEDBACK_RATING, "feedback_ask_rating", _rating_options(turn))
    if comment is None:
        return _ask_comment(turn)
    return _save(turn, rating, comment)


@handlers.step(FEEDBACK_RATING, keeps=("complaint", "affirm", "deny", "thanks", "out_of_scope"))
def feedback_rating(turn: Turn) -> Reply:
    picked = turn.picked("rating")
    rating = int(picked) if picked is not None else parse_rating(turn.said, lenient=True)
    if rating is None:
        return turn.ask(FEEDBACK_RATING, "feedback_ask_rating_again", _rating_options(turn))
    turn.remember(rating=rating)
    comment = turn.data.get("comment") or (None if turn.selected else comment_in(turn.message.text))
    if comment is None:
        return _ask_comment(turn)
    return _save(turn, rating, comment)


@handlers.step(FEEDBACK_COMMENT)
def feedback_comment(turn: Turn) -> Reply:
    said = turn.said.strip()
    skipped = (turn.selected is not None and turn.selected.id == "skip") or is_no_comment(said)
    return _save(turn, int(turn.data["rating"]), None if skipped else said[:5000])


def _save(turn: Turn, rating: int, comment: str | None) -> Reply:
    assert turn.customer is not None
    turn.finish()
    _, ticket = save_feedback(turn.session, turn.now, tz=turn.tz,
                              response_hours=turn.settings.complaint_response_hours,
                              customer_id=turn.customer.id, rating=rating, comment=comment,
                              appointment_id=turn.data.get("appointment"))
    if ticket is None:
        return turn.reply("feedback_thanks_high" if rating >= 4 else "feedback_thanks_mid", rating=rating)
    respond_by = formats.moment(ticket.respond_by, turn.language, turn.tz, turn.now)
    if ticket.severity == "safety":
        # The complaint's own acknowledgement (actions.complaints), with roadside help at hand.
        options = [turn.option("intent:roadside_assistance", "roadside_option")]
        turn.offer(options)
        return turn.reply("complaint_opened_safety", options, ticket=ticket.ticket_id, respond_by=respond_by)
    return turn.reply("feedback_low", rating=rating, ticket=ticket.ticket_id, respond_by=respond_by)
