"""The ASGI app of `dealerbot serve`: health, metrics, unconfigured channels, and the process itself."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.web import create_app
from db import migrate
from db.engine import make_engine
from dealerbot.bootstrap import App, compose
from dealerbot.settings import load_settings
from nlu.commands import free_port
from tests.fakes import FakeNlu

DEALERBOT = str(Path(sys.executable).with_name("dealerbot"))


async def get(app_services, path: str) -> httpx.Response:
    app = create_app(app_services)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
            return await client.get(path)


def test_health_reports_database_nlu_and_channels(live_app):
    response = asyncio.run(get(compose(live_app, nlu=FakeNlu(), channels=[]), "/healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "nlu": "ok", "channels": {}}


def test_health_is_degraded_but_up_without_the_nlu(live_app):
    response = asyncio.run(get(compose(live_app, nlu=FakeNlu(up=False), channels=[]), "/healthz"))
    assert response.status_code == 200
    assert response.json()["status"] == "degraded" and response.json()["nlu"] == "down"


def test_health_is_503_when_the_database_does_not_answer(clock):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    from sqlalchemy.orm import sessionmaker

    engine = make_engine(url, connect_args={"connect_timeout": 2})
    app = App(load_settings(database_url=url), engine, sessionmaker(bind=engine), clock)
    response = asyncio.run(get(compose(app, nlu=FakeNlu(), channels=[]), "/healthz"))
    engine.dispose()
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_metrics_are_prometheus_text_with_nlu_latency(live_app):
    from actions.kit.types import InboundMessage

    services = compose(live_app, nlu=FakeNlu(), channels=[])
    asyncio.run(services.assistant.handle(InboundMessage(channel="console", sender="+971501234567",
                                                          phone="+971501234567", text="hello")))
    response = asyncio.run(get(services, "/metrics"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "dealerbot_nlu_seconds_count 1.0" in response.text
    assert "dealerbot_messages_in_total" in response.text or "# TYPE dealerbot_messages_in counter" in response.text
    assert "971501234567" not in response.text


@pytest.mark.parametrize("path", ["/telegram/webhook", "/twilio/whatsapp", "/twilio/status"])
def test_a_channel_without_credentials_is_not_served(live_app, path):
    async def post() -> httpx.Response:
        app = create_app(compose(live_app, nlu=FakeNlu(), channels=[]))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as c:
                return await c.post(path, content=b"{}")

    assert asyncio.run(post()).status_code == 404


def _env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "PUBLIC_BASE_URL"))}
    env.update(DATABASE_URL=db_url, LOG_FORMAT="json", RASA_URL=f"http://127.0.0.1:{free_port()}", **extra)
    return env


def test_dealerbot_channels_says_which_platforms_are_configured(empty_db_url):
    none = subprocess.run([DEALERBOT, "channels"], env=_env(empty_db_url), capture_output=True, text=True, check=False)
    assert none.returncode == 1 and "no channel configured" in none.stdout
    both = subprocess.run(
        [DEALERBOT, "channels"],
        env=_env(empty_db_url, TELEGRAM_BOT_TOKEN="123:abc", TWILIO_ACCOUNT_SID="AC1", TWILIO_AUTH_TOKEN="secret",
                 TWILIO_WHATSAPP_FROM="whatsapp:+14155238886"),
        capture_output=True, text=True, check=False,
    )
    assert both.returncode == 0 and both.stdout.strip() == "telegram (polling), whatsapp"


def test_dealerbot_serve_answers_health_on_its_port_and_stops_cleanly(empty_db_url):
    engine = make_engine(empty_db_url)
    migrate.upgrade(engine)
    engine.dispose()
    port = free_port()
    process = subprocess.Popen(
        [DEALERBOT, "serve", "--port", str(port)], env=_env(empty_db_url),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                body = response.json()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert body == {"status": "degraded", "database": "ok", "nlu": "down", "channels": {}}, process.stderr
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught (exit by SIGTERM).
    assert process.returncode in (0, -15), err[-2000:]
    assert "app_stopped" in err
