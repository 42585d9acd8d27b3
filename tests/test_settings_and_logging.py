"""Settings come from the environment and .env; logs are JSON lines without secrets or full phones."""

from __future__ import annotations

import io
import json
import logging

import pytest
from pydantic import ValidationError

from dealerbot.logging import configure_logging, get_logger, mask_phone
from dealerbot.settings import Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("DATABASE_URL", "RASA_URL", "TELEGRAM_BOT_TOKEN", "DEALERBOT_TZ", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_match_the_design(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env here
    settings = Settings()
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("var/dealerbot.sqlite3")
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.dealerbot_tz == "Asia/Dubai"
    assert settings.telegram_bot_token is None


def test_environment_wins_over_dotenv_and_dotenv_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("RASA_URL=http://127.0.0.1:5999\nTELEGRAM_BOT_TOKEN=123:abc\n", encoding="utf-8")
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:6000")
    settings = Settings()
    assert settings.rasa_url == "http://127.0.0.1:6000"
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)


@pytest.mark.parametrize(("name", "value"), [("TELEGRAM_BOT_TOKEN", "changeme"), ("DEALERBOT_TZ", "Mars/Olympus")])
def test_bad_settings_are_refused_at_start(tmp_path, monkeypatch, name, value):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert name.lower() in str(caught.value)


def test_phone_numbers_are_masked_to_their_last_three_digits():
    assert mask_phone("call +971501234567 now") == "call +*********567 now"
    assert mask_phone("0501234567") == "*******567"
    assert mask_phone("order 2026 of 12 cars") == "order 2026 of 12 cars"
    when = "Next wakeup is due at 2026-12-07 06:00:00+04:00 (in 299.99 seconds)"
    assert mask_phone(when) == when  # a date and hour are not a phone number
    assert mask_phone("2026-12-07 +971 50 123 4567") == "2026-12-07 +*********567"


def test_logs_are_json_lines_without_secrets_or_full_phone_numbers():
    stream = io.StringIO()
    configure_logging("INFO", "auto", stream=stream)  # StringIO is not a terminal: JSON
    log = get_logger("test")
    log.info("inbound", phone="+971501234567", text="my number is 050 123 4567", auth_token="s3cr3t")
    logging.getLogger("other.library").warning("Authorization failed for +971552345678")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["event"] == "inbound" and lines[0]["level"] == "info"
    assert lines[0]["phone"] == "+*********567"
    assert "050 123 4567" not in lines[0]["text"]
    assert lines[0]["auth_token"] == "[redacted]"
    assert "s3cr3t" not in stream.getvalue()
    assert "+971552345678" not in stream.getvalue() and lines[1]["level"] == "warning"


def test_a_telegram_bot_token_inside_a_url_never_reaches_the_logs():
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    logging.getLogger("httpx").warning(f"HTTP Request: POST https://api.telegram.org/bot{token}/sendMessage failed")
    get_logger("test").warning("send_failed", error=f"NetworkError: https://api.telegram.org/bot{token}/getMe")
    assert token not in stream.getvalue() and "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in stream.getvalue()
    assert stream.getvalue().count("/bot[token]/") == 2
