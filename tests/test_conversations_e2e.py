"""A few whole conversations per language through the real Rasa server (the `rasa` tier).

The handler tests read the NLU table (tests/data/nlu_table.yml); these prove the real model and the
handlers still fit together on what customers typically write, in English and in Arabic.
"""

from __future__ import annotations

from sqlalchemy import select

from actions.kit.catalog import text
from db.models import Complaint, Customer

AHMED = "+971501234567"
FATIMA = "+971552345678"


def _step(app, phone: str) -> tuple[str | None, str | None]:  # type: ignore[no-untyped-def]
    from db.models import ChannelIdentity, ConversationState

    with app.transaction() as s:
        state = s.scalar(
            select(ConversationState)
            .join(ChannelIdentity, ChannelIdentity.id == ConversationState.channel_identity_id)
            .where(ChannelIdentity.external_id == phone)
        )
        return (state.flow, state.step) if state else (None, None)


def test_english_greeting_booking_and_a_change_of_mind(rasa_chat, demo_app) -> None:
    c = rasa_chat(AHMED)
    assert c.text("hi there").startswith(text("greet_known", "en", name="Ahmed Al Mansouri"))
    c.say("I'd like to book an oil change")
    assert c.last.text == text("appt_ask_vehicle", "en")
    # A question about something else is answered (the recall check, for the car named), and the
    # booking's question is asked again where it was.
    answer = c.text("actually, any recalls on my land cruiser?")
    assert "Land Cruiser" in answer
    assert c.last.text == text("flow_resume", "en", question=text("appt_ask_vehicle", "en"))
    assert _step(demo_app, AHMED) == ("book_service", "vehicle")
    # A clear new request of another kind leaves it.
    c.say("I want to cancel my appointment")
    assert _step(demo_app, AHMED)[0] != "book_service"


def test_english_warranty_question_and_a_person(rasa_chat, demo_app) -> None:
    c = rasa_chat(AHMED)
    answer = c.text("is the gearbox covered under my warranty?")
    assert "intent:warranty_claim" in [o.id for o in c.last.options] or "warranty" in answer.lower()
    c.say("can I talk to a real person please")
    assert _step(demo_app, AHMED) == (None, None)
    assert c.last.text  # the hand-off promise, whatever the hour


def test_arabic_greeting_and_a_safety_complaint(rasa_chat, demo_app) -> None:
    c = rasa_chat(FATIMA)
    with demo_app.transaction() as s:
        name = s.scalar(select(Customer.name).where(Customer.phone == FATIMA))
    assert c.text("السلام عليكم").startswith(text("greet_known", "ar", name=name))
    assert c.text("أبي أشتكي على الخدمة").startswith(text("complaint_ask_category", "ar"))
    c.say(text("complaint_cat_vehicle_fault", "ar"))
    said = c.text("بعد الصيانة بيومين طلع دخان من المحرك والسيارة واقفة عند البيت")
    with demo_app.transaction() as s:
        [ticket] = s.scalars(
            select(Complaint).join(Customer, Customer.id == Complaint.customer_id).where(Customer.phone == FATIMA)
        ).all()
        assert ticket.severity == "safety"
        assert ticket.ticket_id in said


def test_arabic_booking_reaches_the_slots(rasa_chat, demo_app) -> None:
    c = rasa_chat(FATIMA)
    c.say("ابي احجز موعد صيانة للسيارة")
    assert _step(demo_app, FATIMA)[0] == "book_service"
    assert c.last.options  # asked which service / branch, with choices
