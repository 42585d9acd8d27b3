"""The real Rasa server with the trained model: intents and entities in English and Arabic, the fallback
and bad input. (The client's degraded mode when the server stops is checked with `nlu serve --detach` and
`nlu stop` in tests/test_nlu_cli.py, on the one server that test starts.)"""

from __future__ import annotations

import pytest

from nlu.client import NluClient

pytestmark = [pytest.mark.slow, pytest.mark.rasa]

CASES = [
    # (text, intent, expected entities {name: value})
    ("I'd like to book an oil change for next Tuesday morning", "book_service", {"service_type": "oil_change"}),
    ("can you move my appointment to Sunday? something came up", "reschedule_appointment", {}),
    ("please cancel my booking for tomorrow, I'm travelling", "cancel_appointment", {}),
    ("what time is my service appointment again?", "check_appointment", {}),
    ("is the gearbox covered by my warranty?", "warranty_coverage", {"component": "transmission"}),
    ("my engine is making a knocking noise and it's still under warranty, I want to claim", "warranty_claim",
     {"component": "engine"}),
    ("your staff were rude and my car came back dirty, this is unacceptable", "complaint", {}),
    ("any update on my complaint C-12?", "case_status", {"ticket_id": "C-12"}),
    ("the odometer shows 45,000 km now", "report_mileage", {"mileage": "45,000 km"}),
    ("what are your opening hours in Sharjah?", "dealership_info", {"branch": "sharjah"}),
    ("is my Land Cruiser affected by any recall?", "recall_check", {}),
    ("my car broke down on Sheikh Zayed Road, I need a tow truck now", "roadside_assistance", {}),
    ("how much would you give me for my Patrol if I trade it in?", "trade_in", {}),
    ("I want to speak to a real person", "human_agent", {}),
    ("stop sending me offers", "stop_notifications", {}),
    ("ابي احجز موعد صيانة لسيارتي باجر", "book_service", {}),
    ("ابغى الغي الموعد حقي", "cancel_appointment", {}),
    ("هل الضمان يغطي المكيف؟", "warranty_coverage", {"component": "air_conditioning"}),
    ("عندي شكوى، الموظف ما رد علي من أسبوع والسيارة للحين ما تصلحت", "complaint", {}),
    ("متى الصيانة الجاية لسيارتي؟", "maintenance_due", {}),
    ("وين فرعكم في أبوظبي؟", "dealership_info", {"branch": "abu-dhabi"}),
    ("السيارة خربت في الطريق وما تشتغل، ابي مساعدة", "roadside_assistance", {}),
    ("شكراً جزيلاً", "thanks", {}),
]


@pytest.fixture
async def client(rasa_server):
    async with NluClient(rasa_server, timeout=10) as nlu:
        yield nlu


@pytest.mark.parametrize(("text", "intent", "entities"), CASES)
async def test_representative_messages_get_their_intent_and_entities(client, text, intent, entities):
    parse = await client.parse(text)
    assert parse.degraded is None
    assert parse.intent == intent, parse.ranking[:3]
    for name, value in entities.items():
        assert value in parse.values(name), parse.entities


@pytest.mark.parametrize("text", ["who won the football match yesterday?", "ما هي عاصمة فرنسا؟"])
async def test_unrelated_requests_are_out_of_scope_or_fallback(client, text):
    parse = await client.parse(text)
    assert parse.intent in {"out_of_scope", "nlu_fallback"}


@pytest.mark.parametrize("text", ["xqzv plmk trrw", "ghjkl ghjkl ghjkl", "ضصثقف غعهخ"])
async def test_gibberish_is_not_guessed_into_a_customer_action(client, text):
    parse = await client.parse(text)
    assert parse.intent in {"nlu_fallback", "out_of_scope"}, parse.ranking[:3]


async def test_a_vin_and_a_claim_ticket_are_extracted_exactly(client):
    parse = await client.parse("what is the status of WC-103 for JTMHV05J604123456")
    assert "WC-103" in parse.values("ticket_id")
    assert "JTMHV05J604123456" in [e.text for e in parse.entities if e.name == "vin"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a" * 10_000,
        "book a service " * 700,
        "😀😀😀🚗🚗",
        "\x00\x01\x02 hello \x1b[31m",
        "\u200f\u202bابي احجز موعد\u202c\u200e",
    ],
)
async def test_bad_input_always_gets_an_answer(client, text):
    parse = await client.parse(text)
    assert parse.intent
    assert 0.0 <= parse.confidence <= 1.0
    assert parse.degraded in {None, "empty"}


async def test_right_to_left_marks_do_not_change_the_intent(client):
    plain = await client.parse("ابي احجز موعد صيانة")
    marked = await client.parse("\u200fابي احجز\u200f موعد صيانة\u200e")
    assert marked.intent == plain.intent == "book_service"


@pytest.mark.parametrize(
    ("template", "intent"),
    [("ابي اغير موعدي {}", "reschedule_appointment"), ("cancel {} please", "cancel_appointment"),
     ("what time is {}", "check_appointment")],
)
async def test_a_booking_reference_does_not_change_the_intent(client, template, intent):
    # References are random (BK- and six letters or digits); none of these is in the training data.
    for reference in ("BK-HNQXPW", "BK-6M6NPK", "BK-ZZQWER", "BK-A1B2C3"):
        parse = await client.parse(template.format(reference))
        assert parse.intent == intent, (reference, parse.ranking[:3])


