"""Car-care advice: the knowledge base (articles the dealership edits), finding the article a question
asks about, the held-out evaluation, and the answers in chat, fitted to the customer's car (fast tier: the `car_advice` intent stated by an inline NLU
table)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from actions.advice import evaluation
from actions.advice.knowledge import KnowledgeError, articles, read_articles
from actions.advice.retrieval import Index, asks_price, find, tokens
from actions.kit.catalog import text
import re

from actions.kit import formats
from actions.warranty.service import cover_of
from db.models import Lead, ModelFigures, OutboxMessage, Vehicle

AHMED = "+971501234567"
FATIMA = "+971552345678"


def test_the_knowledge_base_has_forty_topics_in_both_languages_each_with_a_safety_level_and_an_action():
    base = articles()
    assert len(base) >= 40
    for article in base:
        assert article.answer.en.strip() and article.answer.ar.strip(), article.id
        assert any("\u0600" <= ch <= "\u06ff" for ch in article.answer.ar), article.id
        assert article.questions.en and article.questions.ar, article.id
        if article.safety == "stop":
            assert article.action == "roadside", article.id  # roadside help offered at once


def test_a_bad_article_file_is_refused_with_its_name(tmp_path: Path):
    (tmp_path / "broken.yml").write_text("title: {en: Only English}\nsafety: maybe\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="broken.yml"):
        read_articles(tmp_path)


def test_tokens_fold_arabic_prefixes_and_plurals_and_drop_words_that_say_nothing():
    assert tokens("والمكيف") == ["مكيف"]
    assert tokens("my tyres") == ["tyre"]
    assert "check_engine" in tokens("the check engine light")


def test_an_articles_own_words_find_it_and_an_unrelated_question_finds_none():
    index = Index(articles())
    for article in articles():
        assert find(index, article.title.en).best is not None, article.id
    assert not find(index, "who won the football match yesterday").answered


def test_tuning_reports_each_pair_of_thresholds_on_development_questions():
    dev = {"covered": [{"text": "what tyre pressure should i use in the summer heat", "topic": "tyre_pressure_heat"},
                       {"text": "the red oil light came on while driving", "topic": "oil_pressure_light"}],
           "uncovered": [{"text": "how often should i change the spark plugs"}]}
    rows = evaluation.tune(articles(), dev, [10.0, 1000.0], [5.0, 1000.0], with_own=False)
    assert [(r["answer_score"], r["stop_score"]) for r in rows] == [(10.0, 5.0), (1000.0, 5.0), (1000.0, 1000.0)]
    assert rows[0]["top1"] == 1.0 and rows[0]["safety_first"] == "1/1"
    assert rows[1]["top1"] == 0.5 and rows[1]["safety_first"] == "1/1"  # only the stop-driving one is answered
    assert rows[2] == {**rows[2], "top1": 0.0, "honest": 1.0, "safety_first": "0/1"}


def test_below_the_answer_threshold_only_an_article_that_says_to_stop_driving_is_still_given():
    index = Index(articles())
    for question, safety in (("the red oil light came on", "stop"), ("how often should i wash the car", "info")):
        best = index.search(question)[0]
        assert best.article.safety == safety, question
        finding = find(index, question, answer_score=best.words + 1, stop_score=best.words)
        assert (finding.best == best.article) if safety == "stop" else not finding.answered, question
        assert not find(index, question, answer_score=best.words + 1, stop_score=best.words + 0.5).answered


def test_a_glued_arabic_letter_is_taken_off_only_where_the_articles_know_the_rest_better():
    index = Index(articles())
    assert "فرامل" in tokens("الفرامل", index.known) and "فرامل" in tokens("فرامل", index.known)
    assert tokens("وحرارة", index.known)[0] == tokens("حرارة", index.known)[0]


def test_the_held_out_evaluation_reports_every_figure_and_meets_the_targets():
    report = evaluation.evaluate(Index(articles()), evaluation.load())
    figures = report.as_dict()
    assert figures["covered"] >= 120 and figures["uncovered"] >= 40
    assert set(figures) >= {"top1_accuracy", "honest_rate", "safety_first", "by_language"}
    assert set(figures["by_language"]) == {"en", "ar", "arabizi"}
    # The targets, on questions never used to tune (an edit of the articles that breaks one fails here).
    assert report.top1.rate >= 0.85, report.misses
    assert report.honest.rate >= 0.9, report.misses
    assert report.safety_first.total >= 40 and report.safety_first.right == report.safety_first.total


# --- in chat ------------------------------------------------------------------------------------------------

ADVICE_NLU = {
    "the red oil light came on while driving": {"intent": "car_advice", "confidence": 0.9},
    "what tyre pressure should i use in this heat": {"intent": "car_advice", "confidence": 0.9},
    "ليش المكيف ما يبرد زين": {"intent": "car_advice", "confidence": 0.9},
    "how do i fold the third row seats in a tahoe": {"intent": "car_advice", "confidence": 0.9},
    "what tyre pressure in this heat?": {"intent": "out_of_scope", "confidence": 0.6},
    "my tyre pressure light is on, what pressure should the tyres be on my lexus": {"intent": "car_advice", "confidence": 0.9},
    "كم هوا احط في الكفرات": {"intent": "car_advice", "confidence": 0.9},
    "which engine oil should i use": {"intent": "car_advice", "confidence": 0.9},
    "gearbox warning light on my land cruiser": {"intent": "car_advice", "confidence": 0.9},
    "my brakes are squeaking and squealing when i stop on the land cruiser": {"intent": "car_advice", "confidence": 0.9},
    "how often should i change the oil on my lexus": {"intent": "car_advice", "confidence": 0.9},
    "ضو المكينة شغال": {"intent": "car_advice", "confidence": 0.9},
    "brake light is on, do i need to top up brake fluid": {"intent": "car_advice", "confidence": 0.9},
    "how do i drive on sand in the desert without getting stuck": {"intent": "car_advice", "confidence": 0.9},
    "how much are new brake pads for my land cruiser": {"intent": "car_advice", "confidence": 0.9},
}


def _chat(demo_app, phone: str):
    from tests.scenario import stated

    return stated(demo_app, ADVICE_NLU, phone)


def test_a_stop_driving_question_gets_its_safety_answer_first_with_roadside_help(demo_app):
    [reply] = _chat(demo_app, AHMED).say("the red oil light came on while driving")
    assert reply.text.startswith("⚠️")
    assert [o.id for o in reply.options] == ["intent:roadside_assistance"]


def test_an_arabic_question_is_answered_in_arabic_with_the_matching_service_to_book(demo_app):
    [reply] = _chat(demo_app, FATIMA).say("ليش المكيف ما يبرد زين")
    assert any("\u0600" <= ch <= "\u06ff" for ch in reply.text)
    assert [o.id for o in reply.options] == ["intent:book_service?service=air_conditioning"]


def test_a_safety_answer_comes_first_and_the_other_close_article_is_one_tap_away(demo_app):
    c = _chat(demo_app, AHMED)
    [reply] = c.say("brake light is on, do i need to top up brake fluid")
    light, fluid = (next(a for a in articles() if a.id == i) for i in ("brake_warning_light", "brake_fluid"))
    assert reply.text.startswith(f"⚠️ {light.title.en}")
    assert [o.id for o in reply.options] == ["intent:roadside_assistance", "intent:car_advice?article=brake_fluid"]
    [other] = c.say(payload="intent:car_advice?article=brake_fluid")
    assert other.text.startswith(fluid.title.en) and fluid.answer.en in other.text


def test_a_price_question_is_for_an_advisor_not_an_article(demo_app):
    assert asks_price("كم سعر البطارية الأصلية") and asks_price("how much are brake pads") and asks_price("kam si3r el tayer")
    assert not asks_price("how much psi in summer") and not asks_price("how much oil does it take")
    [reply] = _chat(demo_app, AHMED).say("how much are new brake pads for my land cruiser")
    assert reply.text == text("advice_advisor_will_answer", "en")


def test_a_question_no_article_answers_goes_to_an_advisor_and_the_customer_is_told(demo_app):
    [reply] = _chat(demo_app, AHMED).say("how do i fold the third row seats in a tahoe")
    assert reply.text == text("advice_advisor_will_answer", "en")
    with demo_app.transaction() as session:
        lead = session.scalars(select(Lead).order_by(Lead.id.desc())).first()
        assert lead.kind == "callback" and lead.details["topic"] == "car_advice"
        assert "third row" in lead.details["question"]
        alert = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == f"alert:lead:{lead.id}"))
        assert alert is not None and alert.payload["question"].startswith("how do i fold")


def test_a_car_question_the_model_calls_out_of_scope_is_still_answered_from_the_articles(demo_app):
    [reply] = _chat(demo_app, AHMED).say("what tyre pressure in this heat?")
    assert reply.text != text("out_of_scope_reply", "en")
    assert "tyre" in reply.text.lower()


def test_booking_the_service_an_article_offers_starts_the_booking_with_that_service(demo_app):
    c = _chat(demo_app, FATIMA)
    c.say("ليش المكيف ما يبرد زين")
    [reply] = c.say(payload="intent:book_service?service=air_conditioning")
    # Fatima has one car, and the service is known: the branch is asked next
    assert all(o.id.startswith("branch:") for o in reply.options)


# --- fitted to the customer's car ------------------------------------------------------------------------------

def _section(reply_text: str, model: str) -> str:
    """The lines under the heading of one of the customer's cars."""
    lines = reply_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(text("advice_your_car", "en", vehicle="")[:5])
                 and model in line)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(("•", "("))), len(lines))
    return "\n".join(lines[start:end])


def test_tyre_pressures_come_from_the_workshop_table_for_each_of_the_customers_cars_with_their_source(demo_app):
    [reply] = _chat(demo_app, AHMED).say("what tyre pressure should i use in this heat")
    land_cruiser, lexus = _section(reply.text, "Land Cruiser"), _section(reply.text, "Lexus ES")
    assert "33 psi front, 33 psi rear" in land_cruiser and "36 psi front, 36 psi rear" in lexus
    assert "Workshop data sheet (demo)" in land_cruiser and "Workshop data sheet (demo)" in lexus
    assert reply.text.index("door jamb") < reply.text.index("33 psi")  # the article first, then the car


def test_the_car_the_question_names_is_the_only_one_answered_for_also_after_a_pick(demo_app):
    c = _chat(demo_app, AHMED)
    [pick] = c.say("my tyre pressure light is on, what pressure should the tyres be on my lexus")
    assert {o.id for o in pick.options} == {"advice:tpms_light", "advice:tyre_pressure_heat"}  # light or pressure?
    [reply] = c.say(payload="advice:tyre_pressure_heat")
    assert "36 psi front" in reply.text and "Land Cruiser" not in reply.text and "33 psi" not in reply.text


def test_arabic_answers_carry_the_figures_in_arabic(demo_app):
    [reply] = _chat(demo_app, FATIMA).say("كم هوا احط في الكفرات")
    assert text("advice_fig_tyres", "ar", front=35, rear=35) in reply.text
    assert "Workshop data sheet (demo)" in reply.text and "Nissan Patrol 2022" in reply.text


def test_no_figure_is_made_up_where_the_workshop_table_has_none(demo_app):
    # The Land Cruiser's row leaves the oil empty (it depends on the engine); the Lexus has its grade.
    [reply] = _chat(demo_app, AHMED).say("which engine oil should i use")
    land_cruiser, lexus = _section(reply.text, "Land Cruiser"), _section(reply.text, "Lexus ES")
    assert text("advice_fig_oil_unknown", "en") in land_cruiser and not re.search(r"\dW-\d", land_cruiser)
    assert "0W-20, about 4.5 litres" in lexus
    with demo_app.transaction() as session:  # no figures at all: every car points to the label or the manual
        for row in session.scalars(select(ModelFigures)):
            session.delete(row)
    [reply] = _chat(demo_app, AHMED).say("what tyre pressure should i use in this heat")
    assert reply.text.count(text("advice_fig_tyres_unknown", "en")) == 2
    assert not re.search(r"\d+\s*psi", reply.text, re.IGNORECASE) and "Workshop data sheet" not in reply.text


def test_a_fault_question_says_until_when_the_customers_warranty_covers_that_part(demo_app):
    [reply] = _chat(demo_app, AHMED).say("gearbox warning light on my land cruiser")
    with demo_app.transaction() as session:
        vehicle = session.scalar(select(Vehicle).where(Vehicle.model == "Land Cruiser", Vehicle.plate.is_not(None))
                                 .where(Vehicle.owner.has(phone=AHMED)))
        warranty = cover_of(session, vehicle, demo_app.clock.now().date()).warranty
        expected = text("advice_covered", "en", component=text("warranty_component_transmission", "en"),
                        tier=warranty.tier.name_en, end=formats.day(warranty.end_date, "en"),
                        limit=formats.number(warranty.mileage_limit_km))
    assert expected in reply.text and "Lexus" not in reply.text


def test_a_wear_part_is_said_not_to_be_covered_and_why(demo_app):
    [reply] = _chat(demo_app, AHMED).say("my brakes are squeaking and squealing when i stop on the land cruiser")
    assert "does not cover the " in reply.text and text("warranty_why_wear", "en") in reply.text


def test_how_often_to_change_the_oil_tells_when_the_cars_next_service_is_due(demo_app):
    [reply] = _chat(demo_app, AHMED).say("how often should i change the oil on my lexus")
    assert "the next service is due on" in reply.text and "Lexus ES 2022" in reply.text
    assert "0W-20" in reply.text and "Land Cruiser" not in reply.text


def test_an_article_for_some_models_only_is_given_to_owners_of_such_a_car(demo_app, monkeypatch):
    from actions.advice import chat as advice_chat
    from actions.advice.knowledge import Applies

    patrols_only = (Applies(make="Nissan", model="Patrol", years=(2014, 2025)),)
    base = [a.model_copy(update={"applies_to": patrols_only}) if a.id == "sand_driving" else a for a in articles()]
    monkeypatch.setattr(advice_chat, "index", lambda: Index(base))
    sand = next(a for a in articles() if a.id == "sand_driving")
    question = "how do i drive on sand in the desert without getting stuck"
    [fatima] = _chat(demo_app, FATIMA).say(question)  # a Patrol 2022
    [ahmed] = _chat(demo_app, AHMED).say(question)  # a Land Cruiser and a Lexus ES
    assert fatima.text.startswith(sand.title.en) and not ahmed.text.startswith(sand.title.en)


def test_the_heading_of_each_car_gives_its_last_odometer_reading(demo_app):
    [reply] = _chat(demo_app, FATIMA).say("كم هوا احط في الكفرات")
    assert re.search(r"سيارتك Nissan Patrol 2022 .*، [\d,]+ كم في آخر قراءة:", reply.text)


def test_a_sender_who_is_not_a_customer_gets_the_article_without_personal_lines(demo_app):
    [reply] = _chat(demo_app, "+971509999001").say("what tyre pressure should i use in this heat")
    assert "door jamb" in reply.text and "psi front" not in reply.text and "Your " not in reply.text
