"""The WhatsApp channel (Twilio) end to end: the real ASGI app, the real core and database (SQLite and
PostgreSQL), the keyword NLU, and a local HTTP stand-in for Twilio's REST API that records what was sent.

Webhooks are signed as Twilio signs them (`RequestValidator.compute_signature` over the public URL and
the form), so these tests exercise the signature check the way production does.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import structlog
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.channels import ChannelError, OutsideWindow, Recipient, RecipientUnreachable
from actions.kit.catalog import text
from actions.kit.types import Option, Reply
from bot.web import create_app
from bot.whatsapp import EMPTY_TWIML, TwilioApiHttpClient, WhatsAppChannel, split_body
from db.models import ChannelIdentity, ChatMessage, Customer, InboundReceipt, OutboxMessage
from dealerbot.bootstrap import App, Services, compose
from dealerbot.settings import load_settings
from nlu.client import Parse
from tests.fakes import FakeNlu
from tests.twilio_standin import TwilioStandIn

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "whatsapp-test-auth-token-1234"
FROM = "whatsapp:+14155238886"
PUBLIC = "https://bot.example.com"
AHMED = "+971501234567"
FATIMA = "+971552345678"  # Arabic-speaking demo customer
STRANGER = "+971509999999"

MENU_WORDS = "My appointments"  # the second item of a known customer's main menu


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


def sign(url: str, params: dict[str, str]) -> str:
    return RequestValidator(AUTH_TOKEN).compute_signature(url, params)


# --- the harness ------------------------------------------------------------------------------------------


@dataclass
class WhatsApp:
    """The app as Twilio sees it: signed webhooks in, the stand-in's record of what came out."""

    app: App
    services: Services
    client: httpx.AsyncClient
    standin: TwilioStandIn
    public_base_url: str | None = PUBLIC

    @property
    def channel(self) -> WhatsAppChannel:
        channel = self.services.channels["whatsapp"]
        assert isinstance(channel, WhatsAppChannel)
        return channel

    async def post(
        self,
        params: dict[str, str],
        path: str = "/twilio/whatsapp",
        *,
        signed_url: str | None = None,
        signature: str | None = "compute",
        body: bytes | None = None,
        base: str = "",
    ) -> httpx.Response:
        """POST a form as Twilio does, signed for `signed_url` (default: the public URL of `path`)."""
        url = signed_url or f"{self.public_base_url or 'http://testserver'}{path}"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature == "compute":
            signature = sign(url, params)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        return await self.client.post(f"{base}{path}", content=body if body is not None else urlencode(params),
                                      headers=headers)

    async def say(self, sender: str, said: str = "", **fields: str) -> list[str]:
        """One inbound message from `sender`; the bodies of the replies sent to them."""
        before = len(self.standin.messages)
        params = {"From": f"whatsapp:{sender}", "To": FROM, "Body": said, "MessageSid": new_sid(),
                  "AccountSid": ACCOUNT_SID, "NumMedia": "0", **fields}
        response = await self.post(params)
        assert response.status_code == 200, response.text
        await self.channel.drain()
        return [m.body for m in self.standin.messages[before:] if m.to == f"whatsapp:{sender}"]

    def query(self, statement: Any) -> Any:
        with self.app.transaction() as session:
            return session.scalar(statement)


def twilio_settings(app: App, standin: TwilioStandIn, **extra: Any) -> None:
    values: dict[str, Any] = dict(
        database_url=app.settings.database_url,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_whatsapp_from=FROM,
        twilio_api_base_url=standin.url,
        public_base_url=PUBLIC,
    )
    values.update(extra)
    app.settings = load_settings(**values)


@asynccontextmanager
async def running_whatsapp(app: App, standin: TwilioStandIn, nlu: Any = None,
                           **extra: Any) -> AsyncIterator[WhatsApp]:
    twilio_settings(app, standin, **extra)
    services = compose(app, nlu=nlu or FakeNlu(), channels=["whatsapp"])
    channel = services.channels["whatsapp"]
    assert isinstance(channel, WhatsAppChannel)
    channel.retry_delay = 0.01  # Twilio's back-off, shortened for tests
    asgi = create_app(services)
    async with asgi.router.lifespan_context(asgi):
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield WhatsApp(app, services, client, standin, public_base_url=app.settings.public_base_url)


@pytest.fixture(scope="module")
def standin() -> Iterator[TwilioStandIn]:
    with TwilioStandIn().running() as server:
        yield server


@pytest.fixture
def twilio(standin: TwilioStandIn) -> TwilioStandIn:
    standin.reset()
    return standin


@pytest.fixture
async def wa(live_app: App, twilio: TwilioStandIn) -> AsyncIterator[WhatsApp]:
    async with running_whatsapp(live_app, twilio) as harness:
        yield harness


def count(harness: WhatsApp, model: Any) -> int:
    return harness.query(select(func.count()).select_from(model))


def metric(harness: WhatsApp, name: str, labels: dict[str, str]) -> float:
    return harness.services.metrics.registry.get_sample_value(name, labels) or 0.0


# --- inbound messages and signatures ----------------------------------------------------------------------


async def test_signed_message_from_ahmed_is_answered_through_the_rest_api_and_the_webhook_answers_empty_twiml(
    wa: WhatsApp,
) -> None:
    params = {"From": f"whatsapp:{AHMED}", "To": FROM, "Body": "hello", "MessageSid": new_sid(),
              "AccountSid": ACCOUNT_SID, "NumMedia": "0", "ProfileName": "Ahmed"}
    response = await wa.post(params)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == EMPTY_TWIML
    await wa.channel.drain()
    [sent] = wa.standin.messages
    assert sent.account_sid == ACCOUNT_SID
    assert sent.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert sent.form["To"] == f"whatsapp:{AHMED}"
    assert sent.form["From"] == FROM
    assert sent.form["StatusCallback"] == f"{PUBLIC}/twilio/status"
    assert "Hello Ahmed Al Mansouri" in sent.body
    # the menu as numbered options, then how to answer
    assert f"2. {MENU_WORDS}" in sent.body
    assert sent.body.endswith(text("options_hint", "en"))
    assert metric(wa, "dealerbot_messages_in_total", {"channel": "whatsapp"}) == 1
    assert metric(wa, "dealerbot_messages_out_total", {"channel": "whatsapp"}) == 1


async def test_requests_without_a_valid_signature_are_refused_and_nothing_is_processed_or_sent(wa: WhatsApp) -> None:
    params = {"From": f"whatsapp:{AHMED}", "Body": "hello", "MessageSid": new_sid(), "NumMedia": "0"}
    public_url = f"{PUBLIC}/twilio/whatsapp"
    signatures: dict[str, str | None] = {
        "forged": RequestValidator("not-the-auth-token").compute_signature(public_url, params),
        "missing": None,
        "signed_for_another_url": sign(f"{PUBLIC}/twilio/status", params),
        # behind a proxy at PUBLIC: the URL the request arrived at is not the one Twilio signed
        "signed_for_the_internal_url": sign("http://testserver/twilio/whatsapp", params),
        "signed_for_another_body": sign(public_url, {**params, "Body": "book"}),
    }
    receipts_before, transcript_before = count(wa, InboundReceipt), count(wa, ChatMessage)

    statuses = {case: (await wa.post(params, signature=signature)).status_code
                for case, signature in signatures.items()}
    status_callback = await wa.post({"MessageSid": new_sid(), "MessageStatus": "failed", "ErrorCode": "21610"},
                                    path="/twilio/status", signature=None)

    await wa.channel.drain()
    assert statuses == dict.fromkeys(signatures, 403)
    assert status_callback.status_code == 403
    assert wa.standin.requests == []
    assert count(wa, InboundReceipt) == receipts_before
    assert count(wa, ChatMessage) == transcript_before
    assert metric(wa, "dealerbot_messages_in_total", {"channel": "whatsapp"}) == 0
    assert metric(wa, "dealerbot_requests_rejected_total", {"endpoint": "whatsapp", "reason": "signature"}) == 5
    assert metric(wa, "dealerbot_requests_rejected_total", {"endpoint": "status", "reason": "signature"}) == 1


async def test_the_signed_url_is_public_base_url_behind_a_proxy_and_the_request_url_without_it(
    live_app: App, twilio: TwilioStandIn
) -> None:
    params = {"From": f"whatsapp:{AHMED}", "Body": "hello", "MessageSid": new_sid(), "NumMedia": "0"}
    async with running_whatsapp(live_app, twilio) as wa:
        # Twilio signed https://bot.example.com/twilio/whatsapp?x=1; the proxy forwards to an internal host.
        behind_proxy = await wa.client.post(
            "http://10.0.0.7:8080/twilio/whatsapp?x=1",
            content=urlencode(params),
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "X-Twilio-Signature": sign(f"{PUBLIC}/twilio/whatsapp?x=1", params)},
        )
        await wa.channel.drain()
    async with running_whatsapp(live_app, twilio, public_base_url=None) as wa:
        direct = {**params, "MessageSid": new_sid()}
        own_url = await wa.post(direct, signed_url="http://testserver/twilio/whatsapp")
        public_url = await wa.post({**direct, "MessageSid": new_sid()}, signed_url=f"{PUBLIC}/twilio/whatsapp")
        await wa.channel.drain()

    assert (behind_proxy.status_code, own_url.status_code, public_url.status_code) == (200, 200, 403)
    first, second = twilio.messages
    assert first.form["StatusCallback"] == f"{PUBLIC}/twilio/status"
    assert "StatusCallback" not in second.form  # no public URL: no callback Twilio could reach


async def test_numbered_options_are_picked_by_number_arabic_digit_words_or_button_payload(wa: WhatsApp) -> None:
    answers = {}
    for choice, fields in {
        "number": {"Body": "2"},
        "arabic_digit": {"Body": "٢"},
        "words": {"Body": MENU_WORDS.lower()},
        "button": {"Body": MENU_WORDS, "ButtonText": MENU_WORDS, "ButtonPayload": "intent:check_appointment"},
    }.items():
        menu = await wa.say(AHMED, "hello")
        assert f"2. {MENU_WORDS}" in menu[0]
        answers[choice] = await wa.say(AHMED, **fields)

    fallback = await wa.say(AHMED, "7777777")
    assert answers["number"] == answers["arabic_digit"] == answers["words"] == answers["button"]
    assert answers["number"] and answers["number"] != fallback
    assert "Hello Ahmed" not in answers["number"][0]


async def test_malformed_bodies_get_a_400_and_a_body_over_one_megabyte_a_413(wa: WhatsApp) -> None:
    sid = "SM" + "1" * 32
    cases = {
        "missing_from": ({"Body": "hello", "MessageSid": sid}, None),
        "missing_sid": ({"From": f"whatsapp:{AHMED}", "Body": "hello"}, None),
        "sms_sender": ({"From": AHMED, "Body": "hello", "MessageSid": sid}, None),
        "bad_sender": ({"From": "whatsapp:+97150'; drop", "Body": "hi", "MessageSid": sid}, None),
        "not_a_form": ({}, b"\xff\xfe not utf-8 %ZZ"),
    }
    responses = {case: await wa.post(params, body=body) for case, (params, body) in cases.items()}
    too_large = await wa.post({"From": f"whatsapp:{AHMED}", "Body": "x" * (1024 * 1024 + 1), "MessageSid": sid})

    await wa.channel.drain()
    assert {case: r.status_code for case, r in responses.items()} == dict.fromkeys(cases, 400)
    assert all("Traceback" not in r.text for r in responses.values())
    assert too_large.status_code == 413
    assert wa.standin.requests == [] and count(wa, InboundReceipt) == 0
    for reason, times in {"missing_field": 2, "not_whatsapp": 1, "bad_sender": 1, "too_large": 1}.items():
        assert metric(wa, "dealerbot_requests_rejected_total", {"endpoint": "whatsapp", "reason": reason}) == times


async def test_media_a_shared_location_and_the_profile_name_are_kept_and_roadside_reads_the_location(
    wa: WhatsApp,
) -> None:
    photo = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"
    video = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME2"

    await wa.say(AHMED, "the scratch", NumMedia="2", MediaUrl0=photo, MediaContentType0="image/jpeg",
                 MediaUrl1=video, MediaContentType1="video/mp4", ProfileName="Abu Khalid")
    await wa.say(AHMED, "my car had a breakdown")
    [roadside] = await wa.say(AHMED, "", Latitude="25.204849", Longitude="55.270783", Address="Sheikh Zayed Rd")

    with wa.app.transaction() as session:
        media = session.scalars(select(ChatMessage.media).where(ChatMessage.direction == "in")
                                .order_by(ChatMessage.id)).all()
        identity = session.scalar(select(ChannelIdentity).where(ChannelIdentity.channel == "whatsapp",
                                                                ChannelIdentity.external_id == AHMED))
        assert identity.display_name == "Abu Khalid"
        assert identity.customer is not None and identity.customer.phone == AHMED
        assert identity.last_inbound_at == wa.app.clock.now()
    assert media == [[photo, video], [], ["geo:25.204849,55.270783"]]
    assert "roadside team" in roadside and "maps.google.com/?q=25.204849,55.270783" in roadside


CONSENTS = ("consent_service_reminders", "consent_appointment_reminders", "consent_recall_notices",
            "consent_feedback_surveys")


def consents(wa: WhatsApp, phone: str) -> dict[str, bool]:
    customer = wa.query(select(Customer).where(Customer.phone == phone))
    return {name: getattr(customer, name) for name in (*CONSENTS, "consent_marketing")}


async def test_stop_and_unsubscribe_turn_every_consent_off_and_start_back_on_in_english_and_arabic(
    wa: WhatsApp,
) -> None:
    said: dict[str, tuple[list[str], dict[str, bool]]] = {}
    for sender, word in [(AHMED, "STOP"), (AHMED, "START"), (AHMED, "Unsubscribe"), (AHMED, "start"),
                         (FATIMA, "إيقاف"), (FATIMA, "اشتراك")]:
        replies = await wa.say(sender, word)
        said[word] = (replies, consents(wa, sender))

    stopped_en, stopped_ar = text("notifications_stopped", "en"), text("notifications_stopped", "ar")
    started_en, started_ar = text("notifications_started", "en"), text("notifications_started", "ar")
    for word, reply in [("STOP", stopped_en), ("Unsubscribe", stopped_en), ("إيقاف", stopped_ar)]:
        assert said[word][0] == [reply]
        assert not any(said[word][1].values()), word
    for word, reply in [("START", started_en), ("start", started_en), ("اشتراك", started_ar)]:
        assert said[word][0] == [reply]
        assert all(said[word][1][name] for name in CONSENTS), word


class SlowNlu(FakeNlu):
    async def parse(self, said: str) -> Parse:
        await asyncio.sleep(0.3)
        return await super().parse(said)


async def test_a_slow_turn_gets_an_early_200_its_reply_follows_and_stopping_waits_for_it(
    live_app: App, twilio: TwilioStandIn
) -> None:
    async with running_whatsapp(live_app, twilio, nlu=SlowNlu()) as wa:
        wa.channel.turn_wait_seconds = 0.05
        response = await wa.post({"From": f"whatsapp:{AHMED}", "Body": "hello", "MessageSid": new_sid()})
        sent_when_answered = len(twilio.requests)
    # the lifespan has ended: stop() waited for the turn and its reply, then closed the HTTP session

    assert response.status_code == 200 and response.text == EMPTY_TWIML
    assert sent_when_answered == 0
    assert len(twilio.messages) == 1 and "Hello Ahmed" in twilio.messages[0].body
    assert wa.channel._http is None


async def test_replies_go_out_in_the_order_of_the_messages_and_a_redelivered_message_sid_is_answered_once(
    wa: WhatsApp,
) -> None:
    messages = [{"From": f"whatsapp:{AHMED}", "Body": said, "MessageSid": new_sid()}
                for said in ("hello", "thanks", "bye")]
    responses = await asyncio.gather(*(wa.post(params) for params in messages))
    await wa.channel.drain()
    redelivered = await wa.post(messages[1])
    await wa.channel.drain()

    assert [r.status_code for r in (*responses, redelivered)] == [200, 200, 200, 200]
    assert redelivered.text == EMPTY_TWIML
    bodies = [m.body for m in wa.standin.messages]
    assert len(bodies) == 3
    assert bodies[0].startswith("Hello Ahmed")
    assert bodies[1:] == [text("thanks_reply", "en"), text("goodbye_reply", "en")]
    assert metric(wa, "dealerbot_duplicate_messages_total", {"channel": "whatsapp"}) == 1


# --- status callbacks ---------------------------------------------------------------------------------------


def outbox_row(wa: WhatsApp, recipient: str = AHMED) -> tuple[int, str]:
    sid = new_sid()
    now = wa.app.clock.now()
    with wa.app.transaction() as session:
        row = OutboxMessage(
            idempotency_key=f"test:{sid}", kind="service_reminder", channel="whatsapp", recipient=recipient,
            template="service_reminder", payload={}, status="sent", attempts=1, next_attempt_at=now,
            created_at=now, sent_at=now, provider_message_id=sid,
        )
        session.add(row)
        session.flush()
        return row.id, sid


def outbox(wa: WhatsApp, row_id: int) -> OutboxMessage:
    with wa.app.transaction() as session:
        return session.get(OutboxMessage, row_id)


async def status(wa: WhatsApp, sid: str, message_status: str, **extra: str) -> httpx.Response:
    params = {"MessageSid": sid, "MessageStatus": message_status, "AccountSid": ACCOUNT_SID,
              "From": FROM, "To": f"whatsapp:{AHMED}", **extra}
    return await wa.post(params, path="/twilio/status")


async def test_delivered_and_read_are_recorded_a_late_sent_does_not_overwrite_and_unknown_sids_are_accepted(
    wa: WhatsApp,
) -> None:
    row_id, sid = outbox_row(wa)

    delivered = await status(wa, sid, "delivered")
    after_delivered = outbox(wa, row_id)
    read = await status(wa, sid, "read")
    late = await status(wa, sid, "sent")
    unknown = await status(wa, new_sid(), "failed", ErrorCode="30008")
    row = outbox(wa, row_id)

    assert [r.status_code for r in (delivered, read, late, unknown)] == [200, 200, 200, 200]
    assert after_delivered.delivery_status == "delivered"
    assert row.delivery_status == "read"
    assert row.delivery_updated_at == wa.app.clock.now()
    assert row.status == "sent"
    assert metric(wa, "dealerbot_delivery_status_total", {"channel": "whatsapp", "status": "read"}) == 1
    assert metric(wa, "dealerbot_delivery_status_total", {"channel": "whatsapp", "status": "failed"}) == 1


async def test_a_failure_outside_the_window_needs_a_template_and_an_unsubscribed_one_cancels_the_row(
    wa: WhatsApp,
) -> None:
    await wa.say(AHMED, "hello")  # the identity exists
    outside_id, outside_sid = outbox_row(wa)
    gone_id, gone_sid = outbox_row(wa)

    outside = await status(wa, outside_sid, "failed", ErrorCode="63016")
    gone = await status(wa, gone_sid, "undelivered", ErrorCode="21610")

    outside_row, gone_row = outbox(wa, outside_id), outbox(wa, gone_id)
    identity = wa.query(select(ChannelIdentity).where(ChannelIdentity.external_id == AHMED,
                                                      ChannelIdentity.channel == "whatsapp"))
    assert (outside.status_code, gone.status_code) == (200, 200)
    assert (outside_row.status, outside_row.delivery_status, outside_row.delivery_error_code) == (
        "failed", "failed", "63016")
    assert "24-hour window" in outside_row.last_error and "template" in outside_row.last_error
    assert outside_row.attempts == 1
    assert (gone_row.status, gone_row.delivery_status, gone_row.delivery_error_code) == (
        "cancelled", "undelivered", "21610")
    assert identity.unreachable_since == wa.app.clock.now()


# --- sending --------------------------------------------------------------------------------------------------


def ahmed(wa: WhatsApp, hours_ago: float | None = 1) -> Recipient:
    last = None if hours_ago is None else wa.app.clock.now() - timedelta(hours=hours_ago)
    return Recipient("whatsapp", AHMED, "en", last_inbound_at=last)


async def test_free_text_only_within_24_hours_of_the_last_message_and_templates_at_any_time(wa: WhatsApp) -> None:
    for hours_ago in (None, 24, 30):
        with pytest.raises(OutsideWindow):
            await wa.channel.send(ahmed(wa, hours_ago), Reply("Your car is ready"))
    assert wa.standin.requests == []

    free_text = await wa.channel.send(
        ahmed(wa, 23.5), Reply("Pick a day", [Option("d:1", "Sunday"), Option("d:2", "Monday")])
    )
    template = await wa.channel.send_template(ahmed(wa, None), "HX" + "a" * 32, {"1": "Ahmed", "2": "لاندكروزر"})

    first, second = wa.standin.messages
    assert free_text == [first.sid] and template == [second.sid]
    assert first.body == f"Pick a day\n1. Sunday\n2. Monday\n{text('options_hint', 'en')}"
    assert second.form["ContentSid"] == "HX" + "a" * 32
    assert second.form["ContentVariables"] == '{"1": "Ahmed", "2": "لاندكروزر"}'
    assert "Body" not in second.form
    assert second.form["To"] == f"whatsapp:{AHMED}" and second.form["From"] == FROM
    assert metric(wa, "dealerbot_send_failures_total", {"channel": "whatsapp", "reason": "outside_window"}) == 3


async def test_too_many_requests_is_retried_after_the_pause_and_delivered(wa: WhatsApp) -> None:
    wa.standin.fail_next(429, 20429, times=2, message="Too Many Requests")
    wa.standin.fail_next(503, 20429, message="Too Many Requests")
    started = asyncio.get_running_loop().time()

    sids = await wa.channel.send(ahmed(wa), Reply("Your car is ready"))

    assert len(wa.standin.requests) == 4
    assert [m.sid for m in wa.standin.messages] == sids
    # paused 0.01 + 0.02 + 0.04 s (test back-off) between the attempts
    assert asyncio.get_running_loop().time() - started >= 0.07


async def test_twilio_refusals_become_channel_errors_and_only_server_errors_are_retried(wa: WhatsApp) -> None:
    await wa.say(AHMED, "hello")
    wa.standin.reset()
    send = lambda: wa.channel.send(ahmed(wa), Reply("Your car is ready"))  # noqa: E731

    wa.standin.fail_next(500, 20500)
    once = await send()
    assert len(wa.standin.requests) == 2 and len(once) == 1

    errors: dict[str, tuple[ChannelError, int]] = {}
    for case, (status_code, code, times) in {
        "server_down": (500, 20500, 10), "outside_window": (400, 63016, 1), "bad_number": (400, 21211, 1),
        "unsubscribed": (400, 21610, 1),
    }.items():
        wa.standin.reset()
        wa.standin.fail_next(status_code, code, times=times)
        with pytest.raises(ChannelError) as raised:
            await send()
        errors[case] = (raised.value, len(wa.standin.requests))
    wa.standin.reset()

    server_down, attempts = errors["server_down"]
    assert server_down.retryable and attempts == wa.channel.max_attempts
    assert isinstance(errors["outside_window"][0], OutsideWindow) and errors["outside_window"][1] == 1
    assert not errors["bad_number"][0].retryable and errors["bad_number"][0].code == "21211"
    assert errors["bad_number"][1] == 1
    unsubscribed, attempts = errors["unsubscribed"]
    assert isinstance(unsubscribed, RecipientUnreachable) and unsubscribed.code == "21610" and attempts == 1
    identity = wa.query(select(ChannelIdentity).where(ChannelIdentity.external_id == AHMED,
                                                      ChannelIdentity.channel == "whatsapp"))
    assert identity.unreachable_since == wa.app.clock.now()


def test_a_long_body_is_split_at_line_ends_within_twilios_limit() -> None:
    body = "\n".join(f"line {i} " + "x" * 90 for i in range(40))

    parts = split_body(body, limit=1600)

    assert all(len(p) <= 1600 for p in parts) and len(parts) == 3
    assert "\n".join(parts) == body
    assert split_body("y" * 3500, limit=1600) == ["y" * 1600, "y" * 1600, "y" * 300]


def test_the_rest_base_url_replaces_api_twilio_com_for_every_rest_call() -> None:
    async def rewritten() -> list[str]:
        client = TwilioApiHttpClient("http://127.0.0.1:9/", timeout=1)
        try:
            return [client.rewrite(u) for u in (
                "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
                "https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
                "https://example.com/x",
            )]
        finally:
            await client.close()

    assert asyncio.run(rewritten()) == [
        "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json",
        "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json",
        "https://example.com/x",
    ]


# --- fuzz -----------------------------------------------------------------------------------------------------

_sid = st.uuids().map(lambda u: "SM" + u.hex)
_sender = st.one_of(
    st.sampled_from([AHMED, FATIMA, STRANGER, "+971500000001"]).map(lambda n: f"whatsapp:{n}"),
    st.text(max_size=80).map(lambda t: f"whatsapp:{t}"),
)
_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from([f"whatsapp:{AHMED}", AHMED, FROM, "whatsapp:", "SM" + "0" * 32, "2", "٢", "hello", "STOP",
                     "START", "book", "my car had a breakdown", "NaN", "inf", "-1", "99999999999999999999",
                     "1e308", "25.2", "delivered", "read", "failed", "undelivered", "21610", "63016",
                     "intent:check_appointment", "https://example.com/m.jpg", "\x00", ""]),
    st.integers(-10**20, 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
_MESSAGE_FIELDS = ("To", "NumMedia", "MediaUrl0", "MediaContentType0", "MediaUrl1", "MediaContentType1",
                   "ProfileName", "ButtonPayload", "ButtonText", "Latitude", "Longitude", "WaId", "AccountSid")
_messages = st.fixed_dictionaries(
    {"From": _sender, "MessageSid": _sid, "Body": _values}, optional=dict.fromkeys(_MESSAGE_FIELDS, _values)
)
_statuses = st.fixed_dictionaries(
    {"MessageSid": _sid,
     "MessageStatus": st.one_of(st.sampled_from(["queued", "sent", "delivered", "read", "failed", "undelivered"]),
                                st.text(max_size=20))},
    optional={"ErrorCode": _values, "To": st.one_of(_sender, _values), "From": _values},
)
_anything = st.dictionaries(
    st.one_of(st.sampled_from(("From", "MessageSid", "Body", *_MESSAGE_FIELDS)), st.text(max_size=20)),
    _values, max_size=10,
)
_PATHS = ("/twilio/whatsapp", "/twilio/status")
# (endpoint, form): inbound messages, status callbacks, and anything at all at either endpoint.
_requests = st.one_of(
    st.tuples(st.just(_PATHS[0]), _messages),
    st.tuples(st.just(_PATHS[1]), _statuses),
    st.tuples(st.sampled_from(_PATHS), st.one_of(_messages, _statuses, _anything)),
)


def test_a_thousand_random_signed_forms_never_get_a_server_error(live_app: App, twilio: TwilioStandIn) -> None:
    statuses: list[int] = []
    with asyncio.Runner() as runner:
        context = running_whatsapp(live_app, twilio)
        wa = runner.run(context.__aenter__())
        try:

            @settings(max_examples=1000, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
            @given(request=_requests)
            @example(request=(_PATHS[0], {"From": f"whatsapp:{AHMED}", "MessageSid": "SM" + "a" * 32,
                                          "Body": "he\x00llo", "ProfileName": "\x00" + "n" * 300}))
            @example(request=(_PATHS[0], {"From": "whatsapp:+" + "9" * 70, "MessageSid": "SM" + "b" * 32,
                                          "NumMedia": "99999999999999999999", "MediaUrl0": "x" * 5000,
                                          "Latitude": "nan", "Longitude": "1e400"}))
            @example(request=(_PATHS[1], {"MessageSid": "SM" + "c" * 32, "MessageStatus": "x" * 100,
                                          "ErrorCode": "9" * 40, "To": "whatsapp:" + "1" * 100}))
            def post_signed(request: tuple[str, dict[str, str]]) -> None:
                path, form = request
                response = runner.run(wa.post(form, path=path))
                statuses.append(response.status_code)
                assert response.status_code < 500, (form, response.text)

            with structlog.testing.capture_logs() as logs:
                post_signed()
                runner.run(wa.channel.drain())
        finally:
            runner.run(context.__aexit__(None, None, None))

    failures = [e for e in logs if e.get("log_level") in {"error", "critical", "exception"}]
    assert failures == []
    counted = [m for m in wa.services.metrics.registry.collect() if m.name == "dealerbot_errors"]
    assert [s for m in counted for s in m.samples if s.value] == []
    assert {200, 400} <= set(statuses)  # messages taken in and refusals were both exercised
    assert twilio.messages  # and replies went out
