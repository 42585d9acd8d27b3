"""Car-care advice: the knowledge base (articles the dealership edits), finding the article a question
asks about, the held-out evaluation, and the answers in chat (fast tier; the `car_advice` intent stated by
an inline NLU table, as the model does not know it yet)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from actions.advice import evaluation
from actions.advice.knowledge import KnowledgeError, articles, read_articles
from actions.advice.retrieval import Index, find, tokens
from actions.kit.catalog import text
from db.models import Lead, OutboxMessage

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


def test_the_held_out_evaluation_reports_every_figure():
    report = evaluation.evaluate(Index(articles()), evaluation.load()).as_dict()
    assert report["covered"] >= 120 and report["uncovered"] >= 40
    assert set(report) >= {"top1_accuracy", "honest_rate", "safety_first", "by_language"}
    assert set(report["by_language"]) == {"en", "ar", "arabizi"}


# --- in chat ------------------------------------------------------------------------------------------------

ADVICE_NLU = {
    "the red oil light came on while driving": {"intent": "car_advice", "confidence": 0.9},
    "what tyre pressure should i use in this heat": {"intent": "car_advice", "confidence": 0.9},
    "ليش المكيف ما يبرد زين": {"intent": "car_advice", "confidence": 0.9},
    "how do i fold the third row seats in a tahoe": {"intent": "car_advice", "confidence": 0.9},
    "what tyre pressure in this heat?": {"intent": "out_of_scope", "confidence": 0.6},
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
