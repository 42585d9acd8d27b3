"""Files customers sent, in the staff console: a case's photos and a conversation's media are fetched through
the channel that holds them (the Telegram Bot API's getFile and file download, Twilio's media URL with the
account's credentials and its redirect to storage; both stand-ins at the HTTP level) and served only to
staff who may see the case or the customer. Through the real ASGI app on both databases."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from actions.complaints.service import open_complaint
from bot.staff import auth
from bot.web import create_app
from db.models import Branch, ChannelIdentity, ChatMessage
from dealerbot.bootstrap import App, compose
from dealerbot.settings import load_settings
from tests.factories import make_customer, make_vehicle
from tests.fakes import FakeNlu
from tests.telegram_standin import BotApiStandin
from tests.test_scheduler import ACCOUNT_SID, AUTH_TOKEN, FROM, TOKEN, twilio_server  # noqa: F401 - a fixture
from tests.twilio_standin import TwilioStandIn

PASSWORD = "correct horse battery"
JPEG = b"\xff\xd8\xff\xe0" + b"a photo of a scratched door" * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"a photo of a dashboard light" * 40


@dataclass
class Console:
    app: App
    client: httpx.AsyncClient
    telegram: BotApiStandin
    twilio: TwilioStandIn


@pytest.fixture
async def console(demo_app: App, twilio_server: TwilioStandIn) -> AsyncIterator[Console]:  # noqa: F811
    twilio_server.reset()
    api = BotApiStandin(token=TOKEN)
    await api.start()
    demo_app.settings = load_settings(
        database_url=demo_app.settings.database_url, telegram_bot_token=TOKEN, telegram_api_base_url=api.url,
        telegram_webhook_secret="console-media-secret", public_base_url="https://dealer.example.test",
        twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN, twilio_whatsapp_from=FROM,
        twilio_api_base_url=twilio_server.url)
    web = create_app(compose(demo_app, nlu=FakeNlu(), channels=["telegram", "whatsapp"]))
    try:
        async with web.router.lifespan_context(web):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(web), base_url="http://testserver") as client:
                yield Console(demo_app, client, api, twilio_server)
    finally:
        await api.close()


async def log_in(console: Console, username: str, role: str, branch: str | None) -> None:
    with console.app.transaction() as session:
        auth.add_staff(session, username, role, PASSWORD, console.app.clock.now(), branch)
    form = await console.client.get("/staff/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    signed = await console.client.post("/staff/login", data={"username": username, "password": PASSWORD,
                                                             "csrf_token": token})
    assert signed.status_code == 303


def complaint_with(app: App, branch: str, photos: list[str], chat_media: list[str] | None = None) -> tuple[str, int]:
    """A complaint about a car sold by `branch` with these photos, and a message of the customer's
    conversation carrying `chat_media`: (the ticket, the message's id)."""
    with app.transaction() as session:
        now = app.clock.now()
        owner = make_customer(session, now, name="Photo Customer")
        car = make_vehicle(session, now, owner)
        car.sold_by_branch_id = session.scalar(select(Branch.id).where(Branch.code == branch))
        identity = ChannelIdentity(customer_id=owner.id, channel="telegram", external_id=f"55570{owner.id:02d}", created_at=now,
                                   last_inbound_at=now)
        session.add(identity)
        session.flush()
        message = ChatMessage(channel_identity_id=identity.id, direction="in", text="here is where it broke",
                              media=chat_media or [], created_at=now)
        session.add(message)
        session.flush()
        ticket = open_complaint(session, now, tz=app.settings.tz, response_hours=24, customer_id=owner.id,
                                vehicle_id=car.id, category="service", description="The door was scratched",
                                photos=photos).ticket_id
        return ticket, message.id


async def test_a_telegram_photo_is_shown_on_the_ticket_to_staff_who_may_see_it(console: Console) -> None:
    console.telegram.add_file("AgADdoor", "photos/file_7.jpg", JPEG)
    ticket, _ = complaint_with(console.app, "dubai", ["tg-file:AgADdoor"])
    await log_in(console, "noor", "advisor", "dubai")

    page = await console.client.get(f"/staff/tickets/{ticket}")
    assert f'href="/staff/tickets/{ticket}/photos/0"' in page.text and f'src="/staff/tickets/{ticket}/photos/0"' in page.text
    assert "tg-file:" not in page.text and TOKEN not in page.text  # neither the file id nor the bot's token

    photo = await console.client.get(f"/staff/tickets/{ticket}/photos/0")
    assert photo.status_code == 200 and photo.content == JPEG
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["x-content-type-options"] == "nosniff" and "sandbox" in photo.headers["content-security-policy"]
    assert photo.headers["content-disposition"].startswith("inline")
    assert [c.params["file_id"] for c in console.telegram.called("getFile")] == ["AgADdoor"]

    missing = await console.client.get(f"/staff/tickets/{ticket}/photos/1")
    assert missing.status_code == 404


async def test_another_branchs_photo_and_a_photo_without_a_session_are_refused(console: Console) -> None:
    console.telegram.add_file("AgADfar", "photos/file_8.jpg", JPEG)
    ticket, message_id = complaint_with(console.app, "sharjah", ["tg-file:AgADfar"], ["tg-file:AgADfar"])

    anonymous = await console.client.get(f"/staff/tickets/{ticket}/photos/0")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/staff/login"
    anonymous = await console.client.get(f"/staff/tickets/{ticket}/messages/{message_id}/media/0")
    assert anonymous.status_code == 303

    await log_in(console, "omar", "advisor", "dubai")
    refused = await console.client.get(f"/staff/tickets/{ticket}/photos/0")
    assert refused.status_code == 403 and "another branch" in refused.text
    refused = await console.client.get(f"/staff/tickets/{ticket}/messages/{message_id}/media/0")
    assert refused.status_code == 403
    assert console.telegram.called("getFile") == []  # nothing was fetched for them


async def test_a_whatsapp_photo_is_fetched_with_the_accounts_credentials_which_stay_with_twilio(console: Console) -> None:
    console.twilio.media_auth = (ACCOUNT_SID, AUTH_TOKEN)
    url = console.twilio.add_media(ACCOUNT_SID, PNG, "image/png")
    ticket, _ = complaint_with(console.app, "dubai", [url])
    await log_in(console, "hala", "manager", None)

    photo = await console.client.get(f"/staff/tickets/{ticket}/photos/0")
    assert photo.status_code == 200 and photo.content == PNG and photo.headers["content-type"] == "image/png"
    # Twilio redirected to its storage (another origin): the credentials did not go along
    assert console.twilio.storage_requests == [None]


async def test_a_file_the_platform_no_longer_has_or_no_channel_holds_is_a_clear_error(console: Console) -> None:
    other_account = "https://api.twilio.com/2010-04-01/Accounts/AC" + "9" * 32 + "/Messages/MM1/Media/ME1"
    ticket, _ = complaint_with(console.app, "dubai", ["tg-file:AgADgone", other_account, "https://evil.example/x"])
    await log_in(console, "sami", "manager", None)

    gone = await console.client.get(f"/staff/tickets/{ticket}/photos/0")
    assert gone.status_code == 502 and "could not be fetched" in gone.text and "invalid file_id" in gone.text.lower()
    for index in (1, 2):  # never fetched: not a file of a configured channel (another account, any other URL)
        refused = await console.client.get(f"/staff/tickets/{ticket}/photos/{index}")
        assert refused.status_code == 502 and "no configured channel" in refused.text
    assert console.twilio.storage_requests == []


async def test_media_in_the_conversation_shows_on_the_ticket_a_place_as_a_map_link(console: Console) -> None:
    console.telegram.add_file("AgADchat", "documents/file_9.pdf", b"%PDF-1.4 invoice")
    ticket, message_id = complaint_with(console.app, "dubai", [], ["tg-file:AgADchat", "geo:25.2048,55.2708"])
    await log_in(console, "rana", "advisor", "dubai")

    page = await console.client.get(f"/staff/tickets/{ticket}")
    assert f'href="/staff/tickets/{ticket}/messages/{message_id}/media/0"' in page.text
    assert "https://www.openstreetmap.org/?mlat=25.2048&amp;mlon=55.2708" in page.text

    document = await console.client.get(f"/staff/tickets/{ticket}/messages/{message_id}/media/0")
    assert document.status_code == 200 and document.content == b"%PDF-1.4 invoice"
    assert document.headers["content-type"] == "application/pdf"
    place = await console.client.get(f"/staff/tickets/{ticket}/messages/{message_id}/media/1")
    assert place.status_code == 404  # a place is a link to the map, not a file


async def test_arabic_page_shows_the_photos_heading_in_arabic(console: Console) -> None:
    console.telegram.add_file("AgADar", "photos/file_10.jpg", JPEG)
    ticket, _ = complaint_with(console.app, "dubai", ["tg-file:AgADar"])
    await log_in(console, "dana", "manager", None)
    page = await console.client.get(f"/staff/tickets/{ticket}?lang=ar")
    assert 'dir="rtl"' in page.text and "الصور" in page.text
    assert f'src="/staff/tickets/{ticket}/photos/0"' in page.text


async def test_a_file_in_a_hand_offs_conversation_and_no_other_customers_file_through_a_ticket(console: Console) -> None:
    from actions.handoff.service import open_handoff

    console.telegram.add_file("AgADvoice", "voice/file_11.ogg", b"OggS voice note")
    ticket, message_id = complaint_with(console.app, "dubai", [], ["tg-file:AgADvoice"])
    other_ticket, _ = complaint_with(console.app, "dubai", [], [])
    with console.app.transaction() as session:
        message = session.get(ChatMessage, message_id)
        identity = session.get(ChannelIdentity, message.channel_identity_id)
        handoff_id = open_handoff(session, console.app.clock.now(), identity.id, identity.customer_id, "a person").id
    await log_in(console, "lina", "manager", None)

    page = await console.client.get(f"/staff/handoffs/{handoff_id}")
    assert f'href="/staff/handoffs/{handoff_id}/messages/{message_id}/media/0"' in page.text
    voice = await console.client.get(f"/staff/handoffs/{handoff_id}/messages/{message_id}/media/0")
    assert voice.status_code == 200 and voice.content == b"OggS voice note" and voice.headers["content-type"] == "audio/ogg"

    # the message is not the other ticket's customer's: not found through that ticket
    elsewhere = await console.client.get(f"/staff/tickets/{other_ticket}/messages/{message_id}/media/0")
    assert elsewhere.status_code == 404
    assert len(console.telegram.called("getFile")) == 1


async def test_a_file_a_browser_could_run_is_served_as_a_download_in_a_sandbox(console: Console) -> None:
    console.telegram.add_file("AgADpage", "documents/file_12.html", b"<script>alert(document.cookie)</script>")
    ticket, _ = complaint_with(console.app, "dubai", ["tg-file:AgADpage"])
    await log_in(console, "yara", "manager", None)
    page = await console.client.get(f"/staff/tickets/{ticket}/photos/0")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in page.headers["content-security-policy"] and page.headers["x-content-type-options"] == "nosniff"
