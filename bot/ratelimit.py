"""Outbound rate limits: a token bucket overall and one per chat, awaited before each send."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    burst: float
    monotonic: Callable[[], float] = time.monotonic
    tokens: float = -1.0
    updated: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst
        self.updated = self.monotonic()

    def delay(self) -> float:
        """Take one token; the seconds to wait before using it (0 when one is free now)."""
        now = self.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def idle(self) -> bool:
        return self.tokens + (self.monotonic() - self.updated) * self.rate >= self.burst


@dataclass
class RateLimiter:
    """`await limiter.wait(key)` before a send: at most `overall` per second in all, `per_key` per second
    for one chat (with a small burst), so a customer's reply of two messages is not held back."""

    overall: float
    per_key: float | None = None
    key_burst: float = 3.0
    # How many may go at once in all (default: a second's worth). A platform that counts a sliding second
    # (Telegram's 30 a second) wants 1 here and a rate a little under its limit.
    burst: float | None = None
    sleep: Callable[[float], object] = asyncio.sleep
    monotonic: Callable[[], float] = time.monotonic
    _all: TokenBucket | None = None
    _keys: dict[Hashable, TokenBucket] = field(default_factory=dict)
    _pause_until: float = 0.0

    async def wait(self, key: Hashable | None = None) -> None:
        if self._all is None:
            self._all = TokenBucket(self.overall, self.burst or max(1.0, self.overall), self.monotonic)
        delay = self._all.delay()
        if key is not None and self.per_key:
            bucket = self._keys.get(key)
            if bucket is None:
                if len(self._keys) > 10_000:
                    self._keys = {k: b for k, b in self._keys.items() if not b.idle()}
                bucket = self._keys[key] = TokenBucket(self.per_key, self.key_burst, self.monotonic)
            delay = max(delay, bucket.delay())
        delay = max(delay, self._pause_until - self.monotonic())
        if delay > 0:
            await self.sleep(delay)  # type: ignore[misc]

    def pause(self, seconds: float) -> None:
        """The platform said "too many requests, retry after N seconds": nobody sends until then."""
        self._pause_until = max(self._pause_until, self.monotonic() + seconds)
