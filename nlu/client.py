"""The Rasa NLU server as an adapter: `parse(text) -> Parse(intent, confidence, entities)`.

Nothing outside `nlu/` knows Rasa's JSON. When Rasa is down, slow or answers nonsense, the client does
not raise: it returns `nlu_fallback` with a `degraded` reason, so the core can answer with the main
menu and nothing the customer wrote is lost.

The HTTP client is aiohttp's: measured against the same Rasa server, a parse costs the calling process
0.2 ms of CPU with it and 0.7-0.9 ms with httpx (`make bench`'s app figures count that per message).
"""

from __future__ import annotations

import asyncio
import json
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from dealerbot.logging import get_logger

log = get_logger("nlu.client")

FALLBACK_INTENT = "nlu_fallback"
MAX_TEXT_LENGTH = 1000

# Invisible formatting characters that change nothing of the meaning: bidirectional marks and
# embeddings (common in Arabic messages), zero-width characters, the byte order mark.
_INVISIBLE = {
    *map(chr, range(0x200B, 0x2010)),
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
    "\u061c",
    "\ufeff",
}


@dataclass(frozen=True)
class Entity:
    name: str
    value: str
    text: str
    start: int
    end: int
    confidence: float | None = None


@dataclass(frozen=True)
class Parse:
    intent: str
    confidence: float
    entities: tuple[Entity, ...] = ()
    ranking: tuple[tuple[str, float], ...] = ()
    text: str = ""
    # Why the NLU could not classify the message ("empty", "unavailable", "timeout", "bad_response",
    # "circuit_open"); None when the model answered.
    degraded: str | None = None

    def entity(self, name: str) -> Entity | None:
        return next((e for e in self.entities if e.name == name), None)

    def values(self, name: str) -> list[str]:
        return [e.value for e in self.entities if e.name == name]


def clean_text(text: str) -> str:
    """What the model sees: NFC, no control or invisible characters, single spaces, bounded length."""
    text = unicodedata.normalize("NFC", text)
    out = []
    for ch in text:
        if ch in _INVISIBLE:
            continue
        if unicodedata.category(ch) in {"Cc", "Cf"} and ch not in "\u200d":
            out.append(" ")
            continue
        out.append(ch)
    cleaned = " ".join("".join(out).split())
    return cleaned[:MAX_TEXT_LENGTH]


@dataclass
class CircuitBreaker:
    """After `threshold` failures in a row, stop calling for `cooldown` seconds, then try again."""

    threshold: int = 3
    cooldown: float = 30.0
    monotonic: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None

    def allow(self) -> bool:
        if self.opened_at is None:
            return True
        if self.monotonic() - self.opened_at >= self.cooldown:
            return True  # half-open: one call decides
        return False

    def record(self, ok: bool) -> None:
        if ok:
            self.failures, self.opened_at = 0, None
            return
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = self.monotonic()


@dataclass
class NluClient:
    base_url: str
    timeout: float = 2.0
    retries: int = 1
    backoff: float = 0.2
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    # Parses sent to the server at once. One Rasa process works one request at a time, so more in flight
    # only queue inside the server, where they count against the timeout; beyond this they wait here.
    max_in_flight: int = 4
    _client: aiohttp.ClientSession | None = field(default=None, init=False, repr=False)
    _slots: asyncio.Semaphore | None = field(default=None, init=False, repr=False)

    async def __aenter__(self) -> NluClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _http(self) -> aiohttp.ClientSession:
        # Made on first use, inside the event loop that uses it.
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession(
                base_url=self.base_url.rstrip("/") + "/",
                timeout=aiohttp.ClientTimeout(total=self.timeout, connect=min(self.timeout, 1.0)),
                raise_for_status=False,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def parse(self, text: str) -> Parse:
        cleaned = clean_text(text)
        if not cleaned:
            return Parse(FALLBACK_INTENT, 0.0, text=cleaned, degraded="empty")
        if not self.breaker.allow():
            return Parse(FALLBACK_INTENT, 0.0, text=cleaned, degraded="circuit_open")
        reason = "unavailable"
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * attempt)
            if self._slots is None:
                self._slots = asyncio.Semaphore(self.max_in_flight)
            try:
                async with self._slots, self._http().post("model/parse", json={"text": cleaned}) as response:
                    status = response.status
                    body = await response.read() if status == 200 else b""
            except TimeoutError:  # aiohttp's timeouts are TimeoutError
                reason = "timeout"
                continue
            except aiohttp.ClientError:
                reason = "unavailable"
                continue
            if status >= 500:
                reason = "unavailable"
                continue
            try:
                parsed = _from_rasa(json.loads(body), cleaned) if status == 200 else None
            except (ValueError, KeyError, TypeError, AttributeError):
                parsed = None
            if parsed is None:
                reason = "bad_response"
                break  # a 4xx or malformed answer will not improve by asking again
            self.breaker.record(ok=True)
            return parsed
        self.breaker.record(ok=False)
        log.warning("nlu_degraded", reason=reason, url=self.base_url)
        return Parse(FALLBACK_INTENT, 0.0, text=cleaned, degraded=reason)

    async def ready(self) -> bool:
        """True when the server answers and has a model loaded."""
        try:
            async with self._http().get("status") as response:
                if response.status != 200:
                    return False
                body = await response.read()
        except (TimeoutError, aiohttp.ClientError):
            return False
        try:
            status = json.loads(body)
        except ValueError:
            return False
        return isinstance(status, dict) and bool(status.get("model_file"))


def _from_rasa(payload: dict[str, Any], text: str) -> Parse:
    intent = payload.get("intent") or {}
    name = intent.get("name") or FALLBACK_INTENT
    confidence = float(intent.get("confidence") or 0.0)
    entities = _dedupe(payload.get("entities") or [], text)
    ranking = tuple(
        (str(r["name"]), float(r.get("confidence") or 0.0)) for r in payload.get("intent_ranking") or []
    )
    return Parse(name, confidence, entities, ranking, text)


def _dedupe(raw_entities: list[dict[str, Any]], text: str) -> tuple[Entity, ...]:
    """One entity per span: the regex extractor and DIET may both report the same identifier; the
    regex match wins because its span is exact."""
    ordered = sorted(raw_entities, key=lambda e: e.get("extractor") != "RegexEntityExtractor")
    kept: list[Entity] = []
    for e in ordered:
        start, end = int(e["start"]), int(e["end"])
        name = str(e["entity"])
        if any(k.name == name and start < k.end and k.start < end for k in kept):
            continue
        kept.append(
            Entity(
                name=name,
                value=str(e.get("value", "")),
                text=text[start:end],
                start=start,
                end=end,
                confidence=e.get("confidence_entity"),
            )
        )
    return tuple(sorted(kept, key=lambda k: k.start))
