"""The outbound rate limiter, on a fake clock: the overall limit, the per-chat limit with its burst, and
the pause a platform's "retry after" imposes on every send."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.ratelimit import RateLimiter


@dataclass
class FakeTime:
    """A monotonic clock that only moves when the limiter sleeps; records each sleep."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def limiter(time: FakeTime, overall: float = 30, per_key: float | None = 1, key_burst: float = 3) -> RateLimiter:
    return RateLimiter(overall=overall, per_key=per_key, key_burst=key_burst, sleep=time.sleep,
                       monotonic=time.monotonic)


async def test_sends_within_the_overall_rate_do_not_wait() -> None:
    time = FakeTime()
    limit = limiter(time)
    for chat in range(30):
        await limit.wait(chat)
    assert time.slept == []


async def test_the_overall_limit_spreads_sends_beyond_thirty_a_second() -> None:
    time = FakeTime()
    limit = limiter(time)
    for chat in range(60):  # sixty different chats, one message each
        await limit.wait(chat)
    assert len(time.slept) == 30
    assert time.now - 1000.0 == pytest.approx(1.0, abs=0.05)  # the second thirty took a second


async def test_one_chat_gets_a_small_burst_then_one_message_a_second() -> None:
    time = FakeTime()
    limit = limiter(time)
    for _ in range(3):
        await limit.wait("chat-1")
    assert time.slept == []  # a reply of three messages is not held back
    await limit.wait("chat-1")
    assert time.slept == [1.0]
    await limit.wait("chat-2")  # another chat is not slowed down by the first one's limit
    assert time.slept == [1.0]


async def test_pause_holds_every_send_until_the_retry_after_is_over() -> None:
    time = FakeTime()
    limit = limiter(time)
    limit.pause(5)
    await limit.wait("chat-1")
    assert time.slept == [5.0]
    await limit.wait("chat-2")
    assert time.slept == [5.0]  # the pause is over for everyone
    limit.pause(2)
    limit.pause(1)  # a shorter pause does not shorten the longer one
    await limit.wait(None)
    assert time.slept == [5.0, 2.0]

