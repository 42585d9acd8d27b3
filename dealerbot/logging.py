"""Structured logging: one JSON object per line off a terminal, readable lines on one.

A processor scrubs every record: secrets (tokens, auth headers, passwords) are dropped and phone
numbers are masked to their last three digits, wherever they appear in the event's fields.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog

_SECRET_KEYS = re.compile(r"(token|secret|password|passwd|authorization|auth_header|api_key|cookie)", re.I)
# An E.164 number or a long run of digits that looks like a phone number (with optional separators).
_PHONE = re.compile(r"(?<![\w])(\+?\d[\d \-]{7,16}\d)(?![\w])")
# A date (with the hour after it: "2026-12-07 06:00:00+04:00", as APScheduler logs) is not a phone number.
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2})?")


def mask_phone(text: str) -> str:
    """'+971501234567' -> '+*********567': keep the last three digits, enough to tell people apart."""

    def _mask(match: re.Match[str]) -> str:
        raw = match.group(1)
        digits = re.sub(r"\D", "", raw)
        if len(digits) < 8 or _DATE.fullmatch(raw):
            return raw
        prefix = "+" if raw.startswith("+") else ""
        return prefix + "*" * (len(digits) - 3) + digits[-3:]

    return _PHONE.sub(_mask, text)


# A Telegram bot token, as it appears inside Bot API URLs (`/bot123456:AA.../sendMessage`).
_BOT_TOKEN = re.compile(r"(?<![0-9])\d{5,}:[A-Za-z0-9_-]{20,}")


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phone(_BOT_TOKEN.sub("[token]", value))
    if isinstance(value, Mapping):
        return {
            k: ("[redacted]" if isinstance(k, str) and _SECRET_KEYS.search(k) else _scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v) for v in value)
    return value


def scrub_processor(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return _scrub(event_dict)


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: Any = None) -> None:
    """Configure structlog and the standard library's logging to write through the same pipeline."""
    stream = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not getattr(stream, "isatty", lambda: False)())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        scrub_processor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # SQLAlchemy's echo would print bound parameters (phone numbers); keep it at WARNING.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    # httpx logs every request line at INFO; our own events say what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
