"""Scenarios for actions/handoff and actions/consent: hand-off to a person, and stopping or resuming
notifications."""

from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import select

from actions.consent.rules import KINDS, kinds_named, wants_them_back
from actions.handoff.service import customer_branch, next_answer_time
from actions.kit.catalog import text
from db.models import Branch, BranchHours, ChatMessage, Customer, Handoff, OutboxMessage
from dealerbot.settings import load_settings

AHMED = "+971501234567"
FATIMA = "+971552345678"
STRANGER = "+971509999999"
TZ = load_settings().tz


def dubai(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ).astimezone(UTC)


def customer(app, phone):
    with app.transaction() as s:
        return s.scalar(select(Customer).where(Customer.phone == phone))


def handoffs(app, customer_id=None):
    with app.transaction() as s:
        query = select(Handoff).order_by(Handoff.id)
        if customer_id is not None:
            query = query.where(Handoff.customer_id == customer_id)
        return list(s.scalars(query))


def branch_name(app, phone, language):
    with app.transaction() as s:
        who = s.scalar(select(Customer).where(Customer.phone == phone)) if phone else None
        branch = customer_branch(s, who)
        return branch.code, (branch.name_ar if language == "ar" else branch.name_en), branch.emergency_phone


def option_number(c, option_id):
    return str([o.id for o in c.last.options].index(option_id) + 1)


def consents(app, phone):
    who = customer(app, phone)
    return {kind: getattr(who, f"consent_{kind}") for kind in KINDS}


def set_consents(app, phone, **values):
    with app.transaction() as s:
        who = s.scalar(select(Customer).where(Customer.phone == phone))
        for kind, value in values.items():
            setattr(who, f"consent_{kind}", value)


# --- human_agent ---------------------------------------------------------------------------------------


def test_asking_for_a_person_opens_a_handoff_alerts_staff_and_promises_an_answer_within_30_minutes(chat, demo_app):
    c = chat(AHMED)
    code, name, _ = branch_name(demo_app, AHMED, "en")
    assert code == "dubai"  # Ahmed's cars are serviced in Dubai
    said = c.text("I want to talk to a person")  # Thursday 10:00 in Dubai: the branch is open
    assert said == text("people_handoff_now", "en", branch=name, minutes=30)
    ahmed = customer(demo_app, AHMED)
    [handoff] = handoffs(demo_app, ahmed.id)
    assert handoff.status == "open" and handoff.reason == "I want to talk to a person"
    with demo_app.transaction() as s:
        alert = s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == f"handoff:{handoff.id}"))
        assert alert is not None and alert.kind == "handoff" and alert.channel == "staff"
        assert alert.customer_id == ahmed.id and alert.status == "pending"
        assert alert.payload["handoff_id"] == handoff.id and alert.payload["branch"] == "dubai"


def test_arabic_customer_is_handed_over_to_her_branch_in_arabic(chat, demo_app):
    c = chat(FATIMA)
    code, name, _ = branch_name(demo_app, FATIMA, "ar")
    assert code == "abu-dhabi"
    assert c.text("أبي أكلم موظف") == text("people_handoff_now", "ar", branch=name, minutes=30)
    assert [h.status for h in handoffs(demo_app, customer(demo_app, FATIMA).id)] == ["open"]


def test_the_bot_stays_quiet_during_a_handoff_keeps_the_transcript_and_answers_again_once_released(chat, demo_app):
    c = chat(AHMED)
    c.say("Can I speak to a human please")
    assert c.say("hello") == []
    assert c.say("I want to book a service") == []
    [handoff] = handoffs(demo_app, customer(demo_app, AHMED).id)
    with demo_app.transaction() as s:
        transcript = [(m.direction, m.text) for m in s.scalars(
            select(ChatMessage).where(ChatMessage.channel_identity_id == handoff.channel_identity_id)
            .order_by(ChatMessage.id))]
    assert transcript[-2:] == [("in", "hello"), ("in", "I want to book a service")]

    with demo_app.transaction() as s:  # staff claim it: still quiet
        s.get(Handoff, handoff.id).status = "claimed"
    assert c.say("hello?") == []
    with demo_app.transaction() as s:  # staff release it: the bot answers again
        row = s.get(Handoff, handoff.id)
        row.status, row.released_at = "released", demo_app.clock.now()
    assert c.text("hello").startswith(text("greet_known", "en", name="Ahmed Al Mansouri"))


def test_after_closing_time_the_customer_is_told_the_next_opening_and_the_emergency_number(chat, demo_app):
    demo_app.clock.set(dubai(2026, 11, 26, 23, 0))  # Thursday 23:00: Dubai closed at 22:00, opens Friday 08:00
    c = chat(AHMED)
    _, name, emergency = branch_name(demo_app, AHMED, "en")
    when = text("people_when_tomorrow", "en", time="08:00")
    assert c.text("connect me to an agent") == text(
        "people_handoff_later", "en", branch=name, when=when, emergency=emergency
    )
    [handoff] = handoffs(demo_app, customer(demo_app, AHMED).id)
    with demo_app.transaction() as s:
        alert = s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == f"handoff:{handoff.id}"))
        assert alert.payload["answer_by"] == dubai(2026, 11, 27, 8).isoformat()


def test_during_the_friday_prayer_break_the_arabic_answer_is_this_afternoon(chat, demo_app):
    demo_app.clock.set(dubai(2026, 11, 27, 12, 10))  # Abu Dhabi: Friday 08:00-12:00 and 14:30-20:00
    c = chat(FATIMA)
    _, name, emergency = branch_name(demo_app, FATIMA, "ar")
    when = text("people_when_today", "ar", time="14:30")
    assert c.text("ممكن أتكلم مع شخص") == text(
        "people_handoff_later", "ar", branch=name, when=when, emergency=emergency
    )


def test_shortly_before_closing_the_promise_is_the_next_opening(chat, demo_app):
    demo_app.clock.set(dubai(2026, 11, 26, 21, 45))  # Dubai closes at 22:00 on Thursdays
    said = chat(AHMED).text("I want to speak to someone")
    assert text("people_when_tomorrow", "en", time="08:00") in said


def test_next_answer_time_names_a_later_weekday_and_handles_a_branch_without_hours(session):
    branch = Branch(code="x", name_en="X", name_ar="س", city_en="X", city_ar="س", address_en="a", address_ar="ع",
                    phone="+97140000000", emergency_phone="+97180000000", latitude=0, longitude=0)
    session.add(branch)
    session.flush()
    assert next_answer_time(session, branch, dubai(2026, 11, 26, 10), TZ) is None
    session.add(BranchHours(branch_id=branch.id, weekday=0, opens=time(9), closes=time(17)))  # Mondays only
    session.flush()
    assert next_answer_time(session, branch, dubai(2026, 11, 26, 10), TZ) == dubai(2026, 11, 30, 9)
    monday = dubai(2026, 11, 30, 10)
    assert next_answer_time(session, branch, monday, TZ) == monday


def test_an_unknown_sender_can_ask_for_a_person_and_is_linked_to_no_customer(chat, demo_app):
    c = chat(STRANGER)
    _, name, _ = branch_name(demo_app, None, "en")  # the main branch
    said = c.text("I want to talk to a person")
    assert said == text("people_handoff_now", "en", branch=name, minutes=30) + "\n" + text(
        "people_handoff_unknown_hint", "en")
    [handoff] = [h for h in handoffs(demo_app) if h.customer_id is None]
    with demo_app.transaction() as s:
        alert = s.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == f"handoff:{handoff.id}"))
        assert alert.customer_id is None and alert.payload["customer_id"] is None
        assert alert.payload["customer_name"] is None
    assert c.say("hello") == []


def test_an_unknown_arabic_sender_picks_talk_to_a_person_from_the_menu_by_number(chat, demo_app):
    c = chat(STRANGER)
    c.say("السلام عليكم")
    number = option_number(c, "intent:human_agent")
    said = c.text(number)
    assert text("people_handoff_unknown_hint", "ar") in said
    [handoff] = [h for h in handoffs(demo_app) if h.customer_id is None]
    assert handoff.reason is None  # a bare menu number tells staff nothing


def test_a_number_that_picks_nothing_opens_no_handoff(chat, demo_app):
    c = chat(AHMED)
    c.say("hello")
    c.say("42")
    assert handoffs(demo_app, customer(demo_app, AHMED).id) == []


# --- stop_notifications ----------------------------------------------------------------------------------


def test_the_words_decide_between_stopping_and_resuming():
    for said in ("start reminders again", "resume reminders", "رجعوا التذكيرات", "send me the offers again",
                 "ارجعوا لي رسائل الصيانة", "شغلوا الإشعارات"):
        assert wants_them_back(said), said
    for said in ("stop sending me reminders", "unsubscribe", "please stop notifications", "أوقفوا التذكيرات",
                 "لا أريد رسائل تسويقية", "don't send them again", "وقفوا رسائل العروض"):
        assert not wants_them_back(said), said
    assert kinds_named("I don't want any more marketing messages") == ["marketing"]
    assert kinds_named("وقفوا رسائل العروض") == ["marketing"]
    assert kinds_named("no more feedback surveys or appointment reminders") == [
        "appointment_reminders", "feedback_surveys"]
    assert kinds_named("كلها") == list(KINDS)
    assert kinds_named("please stop notifications") == []


def test_customer_stops_marketing_picked_by_number_after_confirming(chat, demo_app):
    c = chat(AHMED)
    assert c.text("please stop notifications").startswith(text("people_notif_which_off", "en"))
    assert {o.id for o in c.last.options} == {f"kind:{k}" for k in KINDS} | {"kind:all"}
    said = c.text(option_number(c, "kind:marketing"))
    assert said.startswith(text("people_notif_confirm_off", "en", kinds="offers and news (marketing)"))
    assert c.text("yes") == text("people_notif_done_off", "en", kinds="offers and news (marketing)")
    assert consents(demo_app, AHMED) == {k: k != "marketing" for k in KINDS}


def test_arabic_customer_stops_everything_with_the_all_option_and_is_warned_about_recalls(chat, demo_app):
    c = chat(FATIMA)
    assert c.text("أوقفوا التذكيرات").startswith(text("people_notif_which_off", "ar"))
    # Her marketing consent is already off: it is not offered.
    assert "kind:marketing" not in {o.id for o in c.last.options}
    said = c.text("كل ما سبق")  # the "all" option by its label
    assert said.startswith(text("people_notif_recall_warning", "ar"))
    assert c.last.options[0].id == "yes"
    said = c.text("نعم")
    assert said.startswith(text("people_notif_done_off", "ar", kinds="تذكيرات الصيانة، تذكيرات المواعيد، "
                                                                     "إشعارات الاستدعاء واستبيانات الرأي"))
    assert text("people_notif_recall_after", "ar") in said
    assert not any(consents(demo_app, FATIMA).values())


def test_a_kind_named_in_the_request_goes_straight_to_the_confirmation_and_no_changes_nothing(chat, demo_app):
    c = chat(AHMED)
    said = c.text("I don't want any more marketing messages")
    assert said.startswith(text("people_notif_confirm_off", "en", kinds="offers and news (marketing)"))
    assert c.text("no") == text("people_notif_unchanged", "en")
    assert all(consents(demo_app, AHMED).values())


def test_stopping_recall_notices_is_allowed_after_a_safety_warning(chat, demo_app):
    c = chat(AHMED)
    c.say("stop the messages")
    said = c.text(option_number(c, "kind:recall_notices"))
    assert said.startswith(text("people_notif_recall_warning", "en"))
    said = c.text("yes")
    assert text("people_notif_recall_after", "en") in said
    assert consents(demo_app, AHMED) == {k: k != "recall_notices" for k in KINDS}


def test_wrong_answers_are_asked_again_in_english(chat, demo_app):
    c = chat(AHMED)
    c.say("stop sending me messages")
    assert c.text("banana").startswith(text("people_notif_which_again", "en"))
    assert c.text("9").startswith(text("people_notif_which_again", "en"))  # no 9th option
    c.say(option_number(c, "kind:feedback_surveys"))
    assert c.text("maybe").startswith(text("people_notif_confirm_again_off", "en", kinds="feedback surveys"))
    assert c.text("yes") == text("people_notif_done_off", "en", kinds="feedback surveys")
    assert consents(demo_app, AHMED)["feedback_surveys"] is False


def test_wrong_answers_are_asked_again_in_arabic(chat, demo_app):
    c = chat(FATIMA)
    c.say("وقفوا الرسائل")
    assert c.text("موز").startswith(text("people_notif_which_again", "ar"))
    c.say("تذكيرات المواعيد")
    assert c.text("٧").startswith(text("people_notif_confirm_again_off", "ar", kinds="تذكيرات المواعيد"))
    assert c.text("لا") == text("people_notif_unchanged", "ar")
    assert all(v for k, v in consents(demo_app, FATIMA).items() if k != "marketing")


def test_a_hedge_is_never_taken_for_yes(chat, demo_app):
    c = chat(FATIMA)
    c.say("وقفوا الرسائل")
    c.say("تذكيرات المواعيد")
    for hedge in ("مدري", "يمكن", "مو متأكد"):
        assert c.text(hedge).startswith(text("people_notif_confirm_again_off", "ar", kinds="تذكيرات المواعيد"))
    assert all(v for k, v in consents(demo_app, FATIMA).items() if k != "marketing")
    assert c.text("ايوه") == text("people_notif_done_off", "ar", kinds="تذكيرات المواعيد")


def test_resume_reminders_turns_chosen_kinds_back_on(chat, demo_app):
    set_consents(demo_app, AHMED, service_reminders=False, appointment_reminders=False, marketing=False)
    c = chat(AHMED)
    assert c.text("resume reminders").startswith(text("people_notif_which_on", "en"))
    assert [o.id for o in c.last.options] == [
        "kind:service_reminders", "kind:appointment_reminders", "kind:marketing", "kind:all"]
    said = c.text(option_number(c, "kind:all"))
    assert said.startswith(text("people_notif_confirm_on", "en", kinds="service reminders, appointment reminders "
                                                                      "and offers and news (marketing)"))
    c.say("yes")
    assert all(consents(demo_app, AHMED).values())


def test_arabic_bring_back_the_reminders_keeps_marketing_off_unless_chosen(chat, demo_app):
    set_consents(demo_app, FATIMA, service_reminders=False)
    c = chat(FATIMA)
    assert c.text("رجعوا التذكيرات").startswith(text("people_notif_which_on", "ar"))
    c.say("تذكيرات الصيانة")
    assert c.text("نعم") == text("people_notif_done_on", "ar", kinds="تذكيرات الصيانة")
    assert consents(demo_app, FATIMA) == {k: k != "marketing" for k in KINDS}


def test_nothing_left_to_stop_or_to_resume_is_said_plainly(chat, demo_app):
    set_consents(demo_app, AHMED, **{k: False for k in KINDS})
    c = chat(AHMED)
    assert c.text("please stop notifications") == text("people_notif_none_on", "en")
    set_consents(demo_app, AHMED, **{k: True for k in KINDS})
    assert c.text("start reminders again") == text("people_notif_all_on", "en")


def test_an_unknown_sender_cannot_change_anyones_notifications(chat, demo_app):
    before = {p: consents(demo_app, p) for p in (AHMED, FATIMA)}
    c = chat(STRANGER)
    assert c.text("stop sending me reminders").startswith(text("need_customer", "en"))
    assert c.text("وقفوا رسائل العروض").startswith(text("need_customer", "ar"))
    assert {p: consents(demo_app, p) for p in (AHMED, FATIMA)} == before


def test_a_breakdown_during_a_handoff_is_answered_at_once_and_the_handoff_stays(chat, demo_app):
    c = chat(AHMED)
    c.say("Can I speak to a human please")
    replies = c.say("my car broke down on sheikh zayed road and won't start, I need a tow truck")
    assert replies, "someone stuck on the road is never left without an answer"
    with demo_app.transaction() as s:
        alerts = s.scalars(select(OutboxMessage.kind).where(OutboxMessage.customer_id == customer(demo_app, AHMED).id))
        assert any("roadside" in kind for kind in alerts)
    assert [h.status for h in handoffs(demo_app, customer(demo_app, AHMED).id)] == ["open"]
    assert c.say("hello") == []
