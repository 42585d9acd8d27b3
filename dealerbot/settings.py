"""Typed settings, read once from the environment and an optional `.env` file.

The names are the contract of DESIGN.md; every setting has a default that works on a developer machine.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "dealerbot.sqlite3"

# Values that mean "somebody copied the example file and did not fill it in".
_PLACEHOLDERS = {"changeme", "change-me", "xxx", "your-token-here", "todo"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        description="SQLAlchemy URL of the service database.",
    )
    rasa_url: str = Field(default="http://127.0.0.1:5005", description="Base URL of the Rasa server.")
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_whatsapp_from: str | None = None
    twilio_api_base_url: str | None = None
    public_base_url: str | None = None
    whatsapp_rate_per_second: float = Field(
        default=10.0, gt=0, le=1000, description="Messages per second sent from our WhatsApp number."
    )
    dealerbot_tz: str = Field(default="Asia/Dubai", description="Time zone of the dealership.")
    flow_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="Minutes of silence after which an unfinished flow expires."
    )
    complaint_response_hours: int = Field(
        default=48, ge=1, le=24 * 7, description="Hours within which a complaint gets a substantive answer."
    )
    # --- proactive messages (scheduler/) ---
    staff_telegram_chat_id: str | None = Field(
        default=None, description="Telegram chat (a group of the service team) that staff alerts go to."
    )
    quiet_hours: str = Field(
        default="21:00-09:00",
        description="HH:MM-HH:MM in the dealership's time zone: no proactive message to a customer then "
        "(they wait for its end); empty: none.",
    )
    quiet_hours_pass: list[str] = Field(
        default_factory=list,
        description="Kinds of proactive message sent even in quiet hours (e.g. [\"recall_notice\"]: safety).",
    )
    whatsapp_templates: dict[str, str] = Field(
        default_factory=dict,
        description='Approved WhatsApp templates (Twilio ContentSid) per kind and language, '
        '{"service_due.en": "HX...", "service_due.ar": "HX..."}: used outside the 24-hour window.',
    )
    feedback_survey_delay_hours: int = Field(
        default=2, ge=0, le=24 * 14, description="Hours after a completed visit that its feedback survey goes out."
    )
    scheduler_scan_seconds: int = Field(
        default=300, ge=1, le=24 * 3600, description="Seconds between two runs of each scan (on the leader)."
    )
    scheduler_leader_poll_seconds: float = Field(
        default=5.0, gt=0, le=30, description="Seconds between two tries for the leader's lock; a dead leader's "
        "successor takes over within this."
    )
    dispatch_every_seconds: float = Field(
        default=5.0, gt=0, le=600, description="Seconds between two dispatch passes when the outbox is idle."
    )
    outbox_max_attempts: int = Field(
        default=6, ge=1, le=50, description="Attempts at sending one proactive message before it is dead-lettered."
    )
    log_level: str = Field(default="INFO", description="Minimum level of log records.")
    log_format: str = Field(default="auto", description="auto | json | console")

    @field_validator(
        "telegram_bot_token", "telegram_webhook_secret", "twilio_auth_token", mode="after"
    )
    @classmethod
    def _no_placeholder_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value().strip()
        if not raw:
            return None
        if raw.lower() in _PLACEHOLDERS:
            raise ValueError("is a placeholder; set the real secret or leave it unset")
        return value

    @field_validator("dealerbot_tz")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str) -> str:
        value = value.lower()
        if value not in {"auto", "json", "console"}:
            raise ValueError("must be auto, json or console")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours_format(cls, value: str) -> str:
        value = value.strip()
        if value:
            parse_quiet_hours(value)
        return value

    @property
    def quiet(self) -> tuple[time, time] | None:
        """(start, end) of the quiet hours, local time; None when there are none."""
        return parse_quiet_hours(self.quiet_hours) if self.quiet_hours else None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.dealerbot_tz)


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """"21:00-09:00" → (21:00, 09:00); ValueError with what is wrong."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ValueError(f"{value!r} is not HH:MM-HH:MM") from None
    if start == end:
        raise ValueError(f"{value!r} starts and ends at the same time")
    return start, end


def load_settings(**overrides: object) -> Settings:
    """Read the settings once; a bad value stops the program with the setting's name in the message."""
    return Settings(**overrides)  # type: ignore[arg-type]
