"""End to end through the ASGI app of `dealerbot serve`: the real Rasa server, the real database (SQLite
and PostgreSQL), python-telegram-bot against the Bot API stand-in, Twilio webhooks signed with the SDK's
RequestValidator and replies sent to the Twilio stand-in.

A booking completed over Telegram with inline buttons (English) and one over WhatsApp with numbered
options (Arabic); contact linking refused for someone else's contact; a duplicate update and a duplicate
MessageSid answered once.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from actions import registry  # noqa: F401  (every domain's handlers and texts)
from sqlalchemy import select

from actions.kit.catalog import text
from db.models import Appointment, ChannelIdentity, ConversationState, Customer
from dealerbot.bootstrap import App
from nlu.client import NluClient
from tests.telegram_standin import BotApiStandin
from tests.test_telegram import USER, OTHER_USER, Telegram, keyboard_labels, running
from tests.test_whatsapp import new_sid, running_whatsapp
from tests.twilio_standin import TwilioStandIn

pytestmark = pytest.mark.slow

DUBAI = ZoneInfo("Asia/Dubai")
AHMED = "+971501234567"
FATIMA = "+971552345678"


@pytest.fixture
async def api() -> AsyncIterator[BotApiStandin]:
    standin = BotApiStandin(token="123:ABC")
    await standin.start()
    yield standin
    await standin.close()


@pytest.fixture(scope="module")
def twilio() -> Iterator[TwilioStandIn]:
    with TwilioStandIn().running() as server:
        yield server


def appointments(app: App, phone: str) -> list[Appointment]:
    with app.transaction() as s:
        customer = s.scalar(select(Customer).where(Customer.phone == phone))
        return list(s.scalars(select(Appointment).where(Appointment.customer_id == customer.id)))


def step_of(app: App, channel: str, external_id: str) -> str | None:
    with app.transaction() as s:
        state = s.scalar(
            select(ConversationState).join(ChannelIdentity).where(
                ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
        )
        return state.step if state else None


# --- Telegram: English, inline buttons ---------------------------------------------------------------------


async def press(tg: Telegram, label_part: str) -> list[dict[str, Any]]:
    """Press the button whose label contains `label_part` on the last message that has buttons."""
    call = next(c for c in reversed(tg.api.called("sendMessage")) if keyboard_labels(c.params))
    label, data = next((lbl, d) for lbl, d in keyboard_labels(call.params) if label_part in lbl)
    sent = await tg.say(tg.updates.callback(call.result, data))
    # The pressed option stays visible: the message is edited to show it, and the press is answered.
    assert any(label in c.params.get("text", "") for c in tg.api.called("editMessageText"))
    return sent


async def test_a_booking_is_completed_over_telegram_with_inline_buttons_in_english(
    live_app: App, api: BotApiStandin, rasa_server: str
) -> None:
    async with running(live_app, api, nlu=NluClient(rasa_server)) as tg:
        hello = await tg.say(tg.updates.text("hello"))
        assert hello[0]["text"] == text("greet_unknown_short", "en")
        share = hello[-1]["reply_markup"]["keyboard"][0][0]
        assert share["request_contact"] is True
        await tg.link_ahmed()

        asked = await tg.say(tg.updates.text("I'd like to book an oil change"))
        assert asked[-1]["text"] == text("appt_ask_vehicle", "en")
        said = await press(tg, "Land Cruiser")
        assert "295 AED" in said[-1]["text"]
        await press(tg, "Dubai Service Centre")
        slots = await tg.say(tg.updates.text("tomorrow after 6"))
        assert slots[-1]["text"] == text("appt_slots_fit", "en", branch="Dubai Service Centre (Al Quoz)")
        first_slot = keyboard_labels(slots[-1])[0][0]
        assert first_slot.startswith("Fri 27 Nov")
        await press(tg, first_slot)
        await press(tg, "Courtesy car")
        await press(tg, "Continue")
        assert step_of(live_app, "telegram", str(USER)) == "confirm"
        done = await press(tg, "Yes")
        [booked] = appointments(live_app, AHMED)
        assert booked.status == "booked" and booked.reference in done[-1]["text"]
        assert booked.starts_at.astimezone(DUBAI).strftime("%a %d %b, %H:%M") == first_slot
        assert answered_callbacks(tg) == 6
        assert booked.courtesy_car


def answered_callbacks(tg: Telegram) -> int:
    return len(tg.api.called("answerCallbackQuery"))


async def test_over_telegram_someone_elses_contact_links_nothing_and_a_redelivered_update_is_answered_once(
    live_app: App, api: BotApiStandin, rasa_server: str
) -> None:
    async with running(live_app, api, nlu=NluClient(rasa_server)) as tg:
        refused = await tg.say(tg.updates.contact(AHMED, OTHER_USER))
        assert refused[0]["text"] == text("contact_not_own", "en")
        forwarded = await tg.say(tg.updates.contact(AHMED, None))
        assert forwarded[0]["text"] == text("contact_not_own", "en")
        history = await tg.say(tg.updates.text("show me my service history"))
        assert history and "Land Cruiser" not in " ".join(m["text"] for m in history)
        identity = await tg.identity()
        assert identity is not None and identity.customer_id is None

        update = tg.updates.text("what are your opening hours in dubai?")
        first = await tg.say(update)
        again = await tg.say(update)
        assert first and again == []


# --- WhatsApp: Arabic, numbered options ----------------------------------------------------------------------


def number_of(body: str, *parts: str) -> str:
    """The number of the first option line ("3. label") whose label holds one of `parts`."""
    options = re.findall(r"^(\d+)\. (.+)$", body, flags=re.MULTILINE)
    assert options, body
    return next((n for n, label in options for p in parts if p in label), options[0][0])


async def test_a_booking_is_completed_over_whatsapp_with_numbered_options_in_arabic(
    live_app: App, twilio: TwilioStandIn, rasa_server: str
) -> None:
    twilio.reset()
    async with running_whatsapp(live_app, twilio, nlu=NluClient(rasa_server)) as wa:
        replies = await wa.say(FATIMA, "ابي احجز تغيير زيت")
        asked_for_tomorrow = False
        for _ in range(12):
            step = step_of(live_app, "whatsapp", FATIMA)
            body = replies[-1]
            if step is None:
                break
            if step == "slot" and not asked_for_tomorrow:
                answer, asked_for_tomorrow = "باجر العصر", True
            elif step == "branch":
                answer = number_of(body, "أبوظبي")
            elif step == "extras":
                answer = number_of(body, "بدون خدمات إضافية", "متابعة")
            elif step == "confirm":
                answer = "نعم"
            else:
                answer = number_of(body, "تغيير الزيت")
            replies = await wa.say(FATIMA, answer)
        [booked] = appointments(live_app, FATIMA)
        assert booked.status == "booked" and booked.reference in replies[-1]
        assert booked.starts_at.astimezone(DUBAI).date() == datetime(2026, 11, 27).date()
        assert text("appt_ask_vehicle", "ar") not in " ".join(replies)  # nothing in English along the way


async def test_over_whatsapp_a_redelivered_message_sid_is_answered_once(
    live_app: App, twilio: TwilioStandIn, rasa_server: str
) -> None:
    twilio.reset()
    async with running_whatsapp(live_app, twilio, nlu=NluClient(rasa_server)) as wa:
        params = {"From": f"whatsapp:{AHMED}", "To": "whatsapp:+14155238886", "Body": "when is my next service due?",
                  "MessageSid": new_sid(), "NumMedia": "0"}
        for _ in range(2):
            assert (await wa.post(params)).status_code == 200
            await wa.channel.drain()
        to_ahmed = [m for m in twilio.messages if m.to == f"whatsapp:{AHMED}"]
        assert len(to_ahmed) >= 1
        assert len({m.body for m in to_ahmed}) == len(to_ahmed), "no reply was sent twice"
        assert "Land Cruiser" in " ".join(m.body for m in to_ahmed) or "Lexus" in " ".join(m.body for m in to_ahmed)
