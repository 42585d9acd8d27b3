"""Car-care advice in chat: the `car_advice` intent, and a question the NLU could not place that an
article answers (general's fallback asks `advise`).

The answer is the article's, in the customer's language, with one follow-up option (book the matching
service, roadside help, or a person). An article that says to stop driving comes first, with roadside
help at once. Several articles about as good: the customer picks. No article good enough: the customer is
told honestly that a service advisor will answer, and the question goes to the advisors as a lead."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from actions.advice.knowledge import Article, articles
from actions.advice.personal import cars_asked, for_car
from actions.advice.retrieval import ANSWER_SCORE, STOP_SCORE, Finding, Index, find
from actions.appointments.service import service_by_code
from actions.kit.flows import Flow, Handlers
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from actions.leads.service import create_lead
from db.models import Vehicle
from dealerbot.logging import get_logger

ADVICE = Flow("car_advice")
ADVICE_PICK = ADVICE.step("pick")
# Where a question no article answers goes: the service advisors (not sales, the callback's usual team).
ADVISORS = "service-advisors"

handlers = Handlers()
log = get_logger("actions.advice")


@cache
def index() -> Index:
    """The knowledge base as a search index, built once per process."""
    return Index(articles())


def _action(turn: Turn, article: Article) -> list[Option]:
    if article.action == "roadside":
        return [turn.option("intent:roadside_assistance", "roadside_option")]
    if article.action == "human":
        return [turn.option("intent:human_agent", "menu_human_agent")]
    if article.action.startswith("book:"):
        kind = service_by_code(turn.session, article.action.removeprefix("book:"))
        if kind is not None:
            name = kind.name_ar if turn.language == "ar" else kind.name_en
            return [Option(f"intent:book_service?service={kind.code}", turn.t("advice_book", service=name))]
    return []


def _article_option(article: Article, language: str) -> Option:
    """An option that answers with this article (typed, its title picks it too)."""
    return Option(f"intent:car_advice?article={article.id}", article.title.of(language))


def show(turn: Turn, article: Article, also: Sequence[Article] = (), cars: Sequence[Vehicle] | None = None) -> Reply:
    """One article as the answer, with its follow-up option, and (`also`) the other articles that matched
    about as well (a safety answer is shown first even when the question may be about one of those).
    `cars`: the customer's cars the answer is about (default: those this message asks about)."""
    turn.finish()
    options = _action(turn, article) + [_article_option(a, turn.language) for a in also]
    turn.offer(options)
    log.info("advice_given", article=article.id, safety=article.safety)
    key = "advice_answer_stop" if article.safety == "stop" else "advice_answer"
    # The customer's own car after the article (a safety answer always comes first and is never softened).
    personal = "".join(f"\n{line}" for line in for_car(turn, article, cars_asked(turn) if cars is None else cars))
    return turn.reply(key, options, title=article.title.of(turn.language), answer=article.answer.of(turn.language),
                      personal=personal)


def _pick(turn: Turn, finding: Finding) -> Reply:
    options = [Option(f"advice:{h.article.id}", h.article.title.of(turn.language)) for h in finding.hits]
    turn.data = {"asked": turn.said[:500]}
    return turn.ask(ADVICE_PICK, "advice_pick", options)


# A message the model could not place at all (its fallback: perhaps a garbled booking, "abgha oil change
# lel patrol") needs a clearer match to be answered as a car-care question; one it took for a car
# question, or for something out of the dealership's scope, is held to the usual thresholds.
UNSURE_FACTOR = 1.5


def advise(turn: Turn, unsure: bool = False) -> Reply | None:
    """The answer to a car-care question when an article answers it, else None. `unsure`: the model could
    not place the message (a clearer match is needed)."""
    factor = UNSURE_FACTOR if unsure else 1.0
    cars = cars_asked(turn)
    # An article about some makes, models or years only is for a customer with such a car (or whose cars
    # are not known).
    fits = None if not cars else (lambda a: any(a.applies(c.make, c.model, c.year) for c in cars))
    finding = find(index(), turn.said, ANSWER_SCORE * factor, STOP_SCORE * factor, fits)
    if not finding.answered:
        return None
    first, *others = (h.article for h in finding.hits)
    if not others:
        return show(turn, first, cars=cars)
    if first.safety == "stop":
        # Stop driving comes first, whatever else the question may be about; the others stay one tap away.
        return show(turn, first, also=others, cars=cars)
    return _pick(turn, finding)


def _article(article_id: str | None) -> Article | None:
    return next((a for a in index().articles if a.id == article_id), None)


@handlers.intent("car_advice")
def car_advice(turn: Turn) -> Reply:
    chosen = _article(turn.hints.get("article"))
    if chosen is not None:  # an article offered beside a safety answer, picked
        return show(turn, chosen)
    answer = advise(turn)
    if answer is not None:
        return answer
    # No article answers it: an advisor does, and the customer is told so (not a guess).
    lead = create_lead(turn.session, turn.now, turn.customer.id if turn.customer else None, "callback", None,
                       {"topic": "car_advice", "question": turn.said[:2000], "language": turn.language,
                        "channel": turn.identity.channel}, channel_identity_id=turn.identity.id)
    turn.alert_staff("advice_question", f"alert:lead:{lead.id}", {"lead_id": lead.id, "question": turn.said[:2000]},
                     recipient=ADVISORS)
    log.info("advice_passed_to_advisors", lead_id=lead.id)
    return turn.reply("advice_advisor_will_answer")


@handlers.step(ADVICE_PICK, keeps=("car_advice",))
def car_advice_pick(turn: Turn) -> Reply:
    article = _article(turn.picked("advice"))
    if article is None:
        return turn.ask(ADVICE_PICK, "advice_pick_again", turn.offered)
    return show(turn, article, cars=cars_asked(turn, turn.data.get("asked")))
