"""The conversation core itself: catalog, options, language, flows, restarts, privacy, failures.

A tiny throwaway flow registered here ("coretest": pick a colour, then name it in free words) stands in
for the real actions, so these tests do not depend on any action module's behaviour. A test starts it
by offering a menu option that names its intent, as the main menu does.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from actions import registry
from actions.kit.flows import Flow, Handlers
from actions.kit.turn import Turn
from actions.kit import choice
from bot import language

from actions.kit.catalog import register, text
from actions.kit.types import InboundMessage, Option, Reply
from db import migrate
from db.engine import make_engine
from db.models import (
    ChannelIdentity,
    ChatMessage,
    ConversationState,
    Customer,
    Handoff,
    Vehicle,
)
from dealerbot.bootstrap import App, bootstrap
from dealerbot.clock import FixedClock
from dealerbot.settings import load_settings
from nlu.client import NluClient
from nlu.commands import free_port
from tests.conftest import TEST_NOW
from tests.factories import make_appointment, make_customer, make_vehicle
from tests.scenario import Conversation, assistant_for

AHMED = "+971501234567"
FATIMA = "+971552345678"
STRANGER = "+971509999999"


# --- the throwaway flow --------------------------------------------------------------------------------

register(
    {
        "coretest_start": {"en": "Start the test flow", "ar": "ابدأ مسار الاختبار"},
        "coretest_boom": {"en": "Break something", "ar": "اكسر شيئاً"},
        "coretest_colour": {"en": "Which colour?", "ar": "أي لون؟"},
        "coretest_colour_again": {"en": "Please pick one of the colours:", "ar": "اختر أحد الألوان من فضلك:"},
        "coretest_red": {"en": "Red", "ar": "أحمر"},
        "coretest_blue": {"en": "Blue", "ar": "أزرق"},
        "coretest_name": {"en": "What should we call the {colour} one?", "ar": "ماذا نسمي {colour}؟"},
        "coretest_done": {"en": "Saved: {colour} is called {name}.", "ar": "تم الحفظ: {colour} اسمه {name}."},
    }
)


def _colours(turn: Turn) -> list[Option]:
    return [turn.option("colour:red", "coretest_red"), turn.option("colour:blue", "coretest_blue")]


COLOUR_FLOW = Flow("coretest")
COLOUR = COLOUR_FLOW.step("colour")
NAME = COLOUR_FLOW.step("name")
handlers = Handlers()


@handlers.intent("coretest_start")
def _start(turn: Turn) -> Reply:
    return turn.ask(COLOUR, "coretest_colour", _colours(turn))


@handlers.step(COLOUR)
def _colour(turn: Turn) -> Reply:
    if turn.selected is None:
        return turn.ask(COLOUR, "coretest_colour_again", _colours(turn))
    colour = turn.selected.id.removeprefix("colour:")
    turn.remember(colour=colour)
    return turn.ask(NAME, "coretest_name", free_text=True, colour=colour)


@handlers.step(NAME)
def _name(turn: Turn) -> Reply:
    colour = turn.data["colour"]
    turn.finish()
    return turn.reply("coretest_done", colour=colour, name=turn.message.text)


@handlers.intent("coretest_boom")
def _boom(turn: Turn) -> Reply:
    """Writes, then fails: none of its writes may stay."""
    assert turn.customer is not None
    turn.customer.name = "Changed By A Failing Handler"
    turn.session.add(Handoff(channel_identity_id=turn.identity.id, customer_id=turn.customer.id, status="open",
                             created_at=turn.now))
    turn.session.flush()
    raise RuntimeError("a handler bug")


@pytest.fixture(autouse=True)
def _coretest_flow(monkeypatch: pytest.MonkeyPatch) -> None:
    """The throwaway flow is known to the core for the tests of this module only."""
    for name, handler in handlers.intents.items():
        monkeypatch.setitem(registry.INTENTS, name, handler)
    for key, step in handlers.steps.items():
        monkeypatch.setitem(registry.STEPS, key, step)


# --- helpers ---------------------------------------------------------------------------------------------


def offer(app: App, sender: str, intents: tuple[str, ...] = ("coretest_start",), channel: str = "console") -> None:
    """Offer menu options naming the given intents to the sender, as if the last reply had shown them."""
    with app.transaction() as s:
        identity = s.scalar(
            select(ChannelIdentity).where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == sender)
        )
        if identity is None:
            customer = s.scalar(select(Customer).where(Customer.phone == sender)) if channel == "console" else None
            identity = ChannelIdentity(channel=channel, external_id=sender, customer=customer,
                                       created_at=app.clock.now())
            s.add(identity)
            s.flush()
        state = s.scalar(select(ConversationState).where(ConversationState.channel_identity_id == identity.id))
        if state is None:
            lang = identity.customer.preferred_language if identity.customer else "en"
            state = ConversationState(channel_identity_id=identity.id, data={}, language=lang,
                                      updated_at=app.clock.now())
            s.add(state)
        options_ = [{"id": f"intent:{name}", "label": text(name, state.language)} for name in intents]
        state.data = {**(state.data or {}), "options": options_, "free_text": False}


def state_of(app: App, sender: str, channel: str = "console") -> ConversationState:
    with app.transaction() as s:
        return s.scalar(
            select(ConversationState)
            .join(ChannelIdentity, ChannelIdentity.id == ConversationState.channel_identity_id)
            .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == sender)
        )


def transcript(app: App, sender: str, channel: str = "console") -> list[tuple[str, str, str | None]]:
    with app.transaction() as s:
        rows = s.scalars(
            select(ChatMessage)
            .join(ChannelIdentity, ChannelIdentity.id == ChatMessage.channel_identity_id)
            .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == sender)
            .order_by(ChatMessage.id)
        )
        return [(m.direction, m.text, m.intent) for m in rows]


def customer(app: App, phone: str) -> Customer:
    with app.transaction() as s:
        return s.scalar(select(Customer).where(Customer.phone == phone))


def handle(app: App, nlu: NluClient, message: InboundMessage) -> list[Reply]:
    return asyncio.run(assistant_for(app, nlu).handle(message))


def start_flow(c: Conversation) -> list[Reply]:
    offer(c.app, c.sender, channel=c.channel)
    return c.say("1")


# --- the catalog -----------------------------------------------------------------------------------------


# --- options ---------------------------------------------------------------------------------------------

MENU = [Option("intent:book_service", "Book a service"), Option("vehicle:12", "Land Cruiser 2021"),
        Option("slot:2026-11-28T09:00", "Sat 28 Nov 09:00")]
ARABIC_MENU = [Option("yes", "نعم، أكّد الحجز"), Option("no", "لا"), Option("branch:sharjah", "الشارقة")]


@pytest.mark.parametrize(
    ("menu", "said", "payload", "picked"),
    [
        (MENU, "2", None, "vehicle:12"),
        (MENU, " 3 ", None, "slot:2026-11-28T09:00"),
        (MENU, "٢", None, "vehicle:12"),  # Arabic-Indic digit
        (MENU, "۳", None, "slot:2026-11-28T09:00"),  # Eastern Arabic (Persian) digit
        (MENU, "２", None, "vehicle:12"),  # full-width digit
        (MENU, "book a service", None, "intent:book_service"),
        (MENU, "Land Cruiser 2021!", None, "vehicle:12"),
        (MENU, "vehicle:12", None, "vehicle:12"),  # the id typed back
        (MENU, "", "slot:2026-11-28T09:00", "slot:2026-11-28T09:00"),  # a button's payload
        (MENU, "whatever the button says", "vehicle:12", "vehicle:12"),  # the payload wins over text
        (ARABIC_MENU, "نعم، أكّد الحجز", None, "yes"),
        (ARABIC_MENU, "الشارقة.", None, "branch:sharjah"),
        (ARABIC_MENU, "١", None, "yes"),
    ],
)
def test_an_option_is_picked_by_number_label_id_or_payload(menu, said, payload, picked):
    chosen = choice.choose(menu, said, payload)
    assert chosen.option == next(o for o in menu if o.id == picked)
    assert chosen.certain


@pytest.mark.parametrize(
    ("menu", "said", "payload"),
    [
        (MENU, "0", None),
        (MENU, "4", None),
        (MENU, "٤", None),
        (MENU, "I want to cancel my booking", None),  # words of no option
        (MENU, "2", "slot:stale-button"),  # a stale button from an older message picks nothing
        ([], "1", None),
        (MENU, "", None),
    ],
)
def test_a_message_that_names_no_offered_option_picks_none(menu, said, payload):
    assert choice.choose(menu, said, payload) == choice.NOTHING


@pytest.mark.parametrize("said", ["book", "I want to book a service tomorrow"])
def test_some_words_of_a_label_are_a_guess_not_a_certain_choice(said):
    chosen = choice.choose(MENU, said)
    assert chosen.option is not None and chosen.option.id == "intent:book_service"
    assert chosen.how == choice.WORDS and not chosen.certain


# --- language --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "current", "expected"),
    [
        ("مرحبا", "en", "ar"),
        ("hello", "ar", "en"),
        ("Land Cruiser موعد", "en", "ar"),  # any Arabic script answers in Arabic
        ("2", "ar", "ar"),
        ("2", "en", "en"),
        ("٢", "ar", "ar"),
        ("45,000 km", "ar", "en"),
        ("45000", "ar", "ar"),
        ("👍", "ar", "ar"),
        ("C-12", "ar", "ar"),  # a ticket id alone keeps the language
        ("", "ar", "ar"),
        ("ok", "ar", "ar"),  # what everyone writes in Latin letters keeps the language
        ("yes", "ar", "ar"),
        ("la", "ar", "ar"),  # Arabizi no and yes
        ("na3am", "ar", "ar"),
        ("yes please book it", "ar", "en"),
    ],
)
def test_language_follows_the_script_and_digits_keep_it(said, current, expected):
    assert language.detect(said, current) == expected


@pytest.mark.parametrize("said", ["٢", "١٠", "۳"])
def test_arabic_indic_digits_alone_keep_the_language_like_other_digits(said):
    assert language.detect(said, "en") == "en"


@pytest.mark.parametrize(
    ("said", "expected"),
    [("English", "en"), ("english please.", "en"), ("In English!", "en"), ("انجليزي", "en"),
     ("عربي", "ar"), ("Arabic", "ar"), ("بالعربي", "ar"), ("English is hard", None), ("hello", None)],
)
def test_only_a_whole_message_naming_a_language_switches(said, expected):
    assert language.switch_request(said) == expected


def test_the_language_is_remembered_on_the_customer_and_switched_by_english_or_arabi(chat, demo_app):
    c = chat(AHMED)
    assert customer(demo_app, AHMED).preferred_language == "en"
    assert c.text("مرحبا").startswith(text("greet_known", "ar", name="Ahmed Al Mansouri"))
    assert customer(demo_app, AHMED).preferred_language == "ar"
    # A later message of digits only (a new conversation object: nothing kept in memory) stays Arabic.
    c = chat(AHMED)
    assert start_flow(c)[0].text == text("coretest_colour", "ar")
    assert c.text("٢").startswith(text("coretest_name", "ar", colour="blue"))
    assert c.text("English") == text("language_switched", "en")
    assert customer(demo_app, AHMED).preferred_language == "en"
    # The switch kept the flow: the name step still waits, now in English.
    assert c.text("Sky") == text("coretest_done", "en", colour="blue", name="Sky")
    assert c.text("عربي") == text("language_switched", "ar")
    assert customer(demo_app, AHMED).preferred_language == "ar"


def test_an_unknown_senders_language_is_kept_on_the_conversation(chat, demo_app):
    c = chat(STRANGER)
    c.say("السلام عليكم")
    assert state_of(demo_app, STRANGER).language == "ar"
    start_flow(c)
    assert c.last.text == text("coretest_colour", "ar")


# --- flows -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "payload", "channel"),
    [("2", None, "console"), ("٢", None, "console"), ("blue", None, "console"), ("BLUE.", None, "console"),
     ("", "colour:blue", "telegram")],
)
def test_a_flow_option_is_picked_by_number_label_or_button(chat, demo_app, said, payload, channel):
    c = chat(AHMED, channel=channel)
    replies = start_flow(c)
    assert [(r.text, [o.id for o in r.options]) for r in replies] == [
        (text("coretest_colour", "en"), ["colour:red", "colour:blue"])]
    assert c.text(said, payload=payload) == text("coretest_name", "en", colour="blue")
    assert state_of(demo_app, AHMED, channel).step == "name"
    assert state_of(demo_app, AHMED, channel).data["flow"] == {"colour": "blue"}


def test_an_arabic_label_picks_the_option(chat, demo_app):
    c = chat(FATIMA)
    start_flow(c)
    assert c.last.text == text("coretest_colour", "ar")
    assert c.text("أحمر") == text("coretest_name", "ar", colour="red")


def test_a_wrong_answer_is_asked_again_and_keeps_the_step(chat, demo_app):
    c = chat(AHMED)
    start_flow(c)
    assert c.text("green") == text("coretest_colour_again", "en") + "\n1. Red\n2. Blue"
    assert c.text("3") == text("coretest_colour_again", "en") + "\n1. Red\n2. Blue"
    assert state_of(demo_app, AHMED).step == "colour"
    assert c.text("1") == text("coretest_name", "en", colour="red")


def test_a_free_text_step_takes_any_words_even_a_clear_request(chat, demo_app):
    c = chat(AHMED)
    start_flow(c)
    c.say("1")
    said = "I want to book a service"
    assert c.text(said) == text("coretest_done", "en", colour="red", name=said)
    assert state_of(demo_app, AHMED).flow is None


@pytest.mark.parametrize("said", ["cancel", "Cancel!", "إلغاء", "خلاص"])
def test_cancel_words_leave_the_flow(chat, demo_app, said):
    c = chat(AHMED)
    start_flow(c)
    replies = c.say(said)
    lang = "ar" if language.detect(said, "en") == "ar" else "en"
    assert replies[0].text == text("flow_cancelled", lang)
    assert state_of(demo_app, AHMED).flow is None


def test_a_clear_new_request_leaves_the_flow(chat, demo_app):
    c = chat(AHMED)
    start_flow(c)
    replies = c.say("show my service history")
    assert replies and replies[0].text != text("coretest_colour_again", "en")
    assert state_of(demo_app, AHMED).flow != "coretest"


def test_a_flow_expires_after_the_idle_time(chat, demo_app):
    idle = timedelta(minutes=demo_app.settings.flow_idle_minutes)
    c = chat(AHMED)
    start_flow(c)
    demo_app.clock.advance(idle - timedelta(minutes=1))
    assert c.text("2") == text("coretest_name", "en", colour="blue")  # still waiting
    demo_app.clock.advance(idle)  # past the new step's deadline
    replies = c.say("Sky")
    assert all(r.text != text("coretest_done", "en", colour="blue", name="Sky") for r in replies)
    state = state_of(demo_app, AHMED)
    assert state.flow != "coretest" and "colour" not in (state.data or {}).get("flow", {})


def test_a_flows_offered_options_expire_with_it(chat, demo_app):
    c = chat(AHMED)
    start_flow(c)
    demo_app.clock.advance(timedelta(minutes=demo_app.settings.flow_idle_minutes, seconds=1))
    replies = c.say("2")
    assert all(not r.text.startswith(text("coretest_name", "en", colour="blue")) for r in replies)


def test_the_conversation_state_survives_a_restart(databases, backend, table_nlu):
    url = databases.new_url(backend)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()

    def run(*said: str) -> list[Reply]:
        app = bootstrap(load_settings(database_url=url), clock=FixedClock(TEST_NOW), configure_logs=False)
        try:
            with app.transaction() as s:
                if s.scalar(select(Customer.id).where(Customer.phone == AHMED)) is None:
                    make_customer(s, TEST_NOW, phone=AHMED, name="Ahmed Al Mansouri")
            replies = []
            for line in said:
                if line == "<offer>":
                    offer(app, AHMED)
                    continue
                replies = Conversation(app, table_nlu, AHMED).say(line)
            return replies
        finally:
            app.close()  # the process ends: nothing stays in memory

    assert run("<offer>", "1")[0].text == text("coretest_colour", "en")
    assert run("2")[0].text == text("coretest_name", "en", colour="blue")
    assert run("Sky")[0].text == text("coretest_done", "en", colour="blue", name="Sky")


# --- who may see what ------------------------------------------------------------------------------------


def _private_strings(app: App) -> set[str]:
    with app.transaction() as s:
        found: set[str] = set()
        for c in s.scalars(select(Customer)):
            found |= {c.name, c.phone, c.phone.removeprefix("+971"), c.email or c.phone}
        for v in s.scalars(select(Vehicle)):
            found |= {v.vin, v.plate or v.vin}
        return found


def test_an_unknown_sender_never_sees_customer_data(chat, demo_app):
    private = _private_strings(demo_app)
    c = chat(STRANGER)
    for said in ("hello", "show my service history", "what is my warranty", "my appointments",
                 "where is my complaint C-1", "any recalls on my car?", "when is my next service due",
                 "my car has done 45000 km", "السلام عليكم", "وين وصلت شكواي", "متى الصيانة القادمة لسيارتي",
                 "I want to book a service", "My name is Ahmed Al Mansouri, show my cars"):
        for reply in c.say(said):
            shown = " ".join([reply.text, *(o.label for o in reply.options), *(a.url for a in reply.attachments)])
            leaked = {p for p in private if p in shown and p not in said}
            assert not leaked, (said, leaked)
            menu = {o.id for o in reply.options if o.id.startswith("intent:")}
            assert menu <= {"intent:dealership_info", "intent:human_agent"}, (said, menu)
    with demo_app.transaction() as s:
        identity = s.scalar(select(ChannelIdentity).where(ChannelIdentity.external_id == STRANGER))
        assert identity.customer_id is None


def test_a_telegram_user_id_is_never_taken_for_a_phone_number(chat, demo_app):
    # A Telegram sender id is not a phone the channel vouches for, even when it looks like one.
    c = chat(AHMED, channel="telegram")
    assert c.text("hello").startswith(text("greet_unknown_short", "en"))
    assert "Ahmed" not in c.text("show my service history")
    # With the phone the channel vouches for (a shared contact), the customer is known.
    vouched = chat("12345678", channel="telegram")
    assert vouched.text("hello", phone=AHMED).startswith(text("greet_known", "en", name="Ahmed Al Mansouri"))


# --- when things fail ------------------------------------------------------------------------------------


def test_without_the_nlu_the_bot_still_answers_with_the_menu_and_keeps_the_message(demo_app):
    down = NluClient(f"http://127.0.0.1:{free_port()}", timeout=0.5, retries=0)

    async def say(said: str) -> list[Reply]:
        message = InboundMessage(channel="console", sender=AHMED, phone=AHMED, text=said, received_at=demo_app.clock.now())
        return await assistant_for(demo_app, down).handle(message)

    async def conversation() -> list[list[Reply]]:
        try:
            return [await say("I want to book a service please"), await say("مرحبا، عندي سؤال")]
        finally:
            await down.aclose()

    english, arabic = asyncio.run(conversation())
    assert [r.text for r in english] == [text("fallback_degraded", "en")]
    assert [o.id for o in english[0].options][:1] == ["intent:book_service"] and len(english[0].options) == 8
    assert [r.text for r in arabic] == [text("fallback_degraded", "ar")]
    assert transcript(demo_app, AHMED)[-4:] == [
        ("in", "I want to book a service please", "nlu_fallback"),
        ("out", text("fallback_degraded", "en"), None),
        ("in", "مرحبا، عندي سؤال", "nlu_fallback"),
        ("out", text("fallback_degraded", "ar"), None),
    ]


@pytest.mark.parametrize("said", ["أبي أحجز موعد", "book a service pls", "I want to book a servise"])
def test_without_the_nlu_words_of_a_menu_item_pick_it(demo_app, said):
    down = NluClient(f"http://127.0.0.1:{free_port()}", timeout=0.5, retries=0)

    async def conversation() -> list[list[Reply]]:
        try:
            replies = []
            for message in ("hello", said):
                inbound = InboundMessage(channel="console", sender=AHMED, phone=AHMED, text=message,
                                         received_at=demo_app.clock.now())
                replies.append(await assistant_for(demo_app, down).handle(inbound))
            return replies
        finally:
            await down.aclose()

    menu, booking = asyncio.run(conversation())
    assert menu[0].text == text("fallback_degraded", "en")
    language = "ar" if "موعد" in said else "en"
    assert booking[0].text == text("appt_ask_vehicle", language)


def test_without_the_nlu_a_flow_goes_on_by_numbers(demo_app):
    offer(demo_app, AHMED)
    down = NluClient(f"http://127.0.0.1:{free_port()}", timeout=0.5, retries=0)

    async def conversation() -> list[str]:
        texts = []
        try:
            for said in ("1", "2", "Sky"):
                message = InboundMessage(channel="console", sender=AHMED, phone=AHMED, text=said, received_at=demo_app.clock.now())
                texts.extend(r.text for r in await assistant_for(demo_app, down).handle(message))
        finally:
            await down.aclose()
        return texts

    assert asyncio.run(conversation()) == [
        text("coretest_colour", "en"), text("coretest_name", "en", colour="blue"),
        text("coretest_done", "en", colour="blue", name="Sky")]


def test_a_failing_handler_rolls_back_its_writes_and_the_customer_gets_the_apology(chat, demo_app):
    c = chat(AHMED)
    offer(demo_app, AHMED, ("coretest_start", "coretest_boom"))
    replies = c.say("2")
    assert [(r.text, r.options) for r in replies] == [(text("error_sorry", "en"), [])]
    ahmed = customer(demo_app, AHMED)
    assert ahmed.name == "Ahmed Al Mansouri"
    with demo_app.transaction() as s:
        assert s.scalar(select(Handoff.id).where(Handoff.customer_id == ahmed.id)) is None
    assert [(d, t) for d, t, _ in transcript(demo_app, AHMED)[-2:]] == [("in", "2"), ("out", text("error_sorry", "en"))]
    # Nothing is stuck: the options offered before the failure still work.
    assert c.text("1") == text("coretest_colour", "en") + "\n1. Red\n2. Blue"


def test_the_apology_is_in_the_customers_language_when_they_pick_by_number(chat, demo_app):
    c = chat(FATIMA)
    offer(demo_app, FATIMA, ("coretest_boom",))
    assert [r.text for r in c.say("1")] == [text("error_sorry", "ar")]


def test_a_menu_offered_long_ago_is_not_picked_by_a_number_now(chat, demo_app):
    c = chat(AHMED)
    offer(demo_app, AHMED)
    demo_app.clock.advance(timedelta(minutes=demo_app.settings.flow_idle_minutes + 1))
    c.say("1")
    assert state_of(demo_app, AHMED).flow is None  # "1" did not start the offered flow


def test_a_customer_made_by_the_factories_sees_only_their_own_appointment(chat, demo_app):
    phone = "+971501119988"
    with demo_app.transaction() as s:
        customer = make_customer(s, TEST_NOW, phone=phone, name="Layla Haddad", language="en")
        car = make_vehicle(s, TEST_NOW, customer, make="Nissan", model="Patrol", plate="Dubai K 4242")
        make_vehicle(s, TEST_NOW, customer, make="Kia", model="Sorento")
        mine = make_appointment(s, TEST_NOW, car, starts_at=TEST_NOW + timedelta(days=2), branch="sharjah")
        other = make_appointment(
            s, TEST_NOW, make_vehicle(s, TEST_NOW, make_customer(s, TEST_NOW)), starts_at=TEST_NOW + timedelta(days=2)
        )
        mine_ref, other_ref = mine.reference, other.reference
    c = chat(phone)
    c.say("hello")  # the menu, whose "My appointments" is picked next
    answer = c.text(payload="intent:check_appointment")
    assert mine_ref in answer and "Patrol" in answer
    assert other_ref not in answer


def test_an_unknown_sender_writing_arabizi_is_answered_in_arabic_a_known_one_keeps_theirs():
    assert language.detect("wain fara3kom fe abu dhabi?", "en", known=False) == "ar"
    assert language.detect("wain fara3kom fe abu dhabi?", "en", known=True) == "en"
    assert language.detect("where is your branch", "en", known=False) == "en"
