"""The NLU client's degraded mode and input cleaning, against servers that are down, slow or broken."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from nlu.client import CircuitBreaker, NluClient, clean_text
from nlu.commands import free_port


class StandIn:
    """A minimal HTTP server on loopback standing in for a misbehaving Rasa server."""

    def __init__(self, delay: float = 0.0, status: int = 200, body: bytes = b"{}") -> None:
        self.delay, self.status, self.body = delay, status, body
        self.requests = 0
        self.port = free_port()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
        )
        await reader.readexactly(length)
        self.requests += 1
        await asyncio.sleep(self.delay)
        writer.write(
            b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (self.status, len(self.body), self.body)
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def stand_in(request) -> AsyncIterator[StandIn]:
    server_spec = StandIn(**request.param)
    server = await asyncio.start_server(server_spec.handle, "127.0.0.1", server_spec.port)
    async with server:
        yield server_spec


async def test_server_down_gives_fallback_with_reason_and_no_exception():
    async with NluClient(f"http://127.0.0.1:{free_port()}", timeout=0.5, retries=1, backoff=0.01) as client:
        parse = await client.parse("I want to book a service")
    assert parse.intent == "nlu_fallback"
    assert parse.degraded == "unavailable"
    assert parse.text == "I want to book a service"


@pytest.mark.parametrize("stand_in", [{"delay": 1.0}], indirect=True)
async def test_slow_server_times_out_after_a_bounded_retry(stand_in):
    async with NluClient(f"http://127.0.0.1:{stand_in.port}", timeout=0.2, retries=1, backoff=0.01) as client:
        parse = await client.parse("hello")
    assert (parse.intent, parse.degraded) == ("nlu_fallback", "timeout")
    assert stand_in.requests == 2  # one try and one retry, no more


@pytest.mark.parametrize("stand_in", [{"status": 500}], indirect=True)
async def test_server_errors_are_retried_then_degraded(stand_in):
    async with NluClient(f"http://127.0.0.1:{stand_in.port}", timeout=1, retries=2, backoff=0.01) as client:
        parse = await client.parse("hello")
    assert parse.degraded == "unavailable"
    assert stand_in.requests == 3


@pytest.mark.parametrize("stand_in", [{"body": b"not json"}], indirect=True)
async def test_a_malformed_answer_is_not_retried(stand_in):
    async with NluClient(f"http://127.0.0.1:{stand_in.port}", timeout=1, retries=2, backoff=0.01) as client:
        parse = await client.parse("hello")
    assert parse.degraded == "bad_response"
    assert stand_in.requests == 1


@pytest.mark.parametrize(
    "stand_in",
    [
        {
            "body": json.dumps(
                {
                    "text": "status of C-12",
                    "intent": {"name": "case_status", "confidence": 0.97},
                    "entities": [
                        {"entity": "ticket_id", "start": 10, "end": 14, "value": "C-12", "extractor": "DIETClassifier"},
                        {"entity": "ticket_id", "start": 10, "end": 14, "value": "C-12",
                         "extractor": "RegexEntityExtractor"},
                    ],
                    "intent_ranking": [{"name": "case_status", "confidence": 0.97}],
                }
            ).encode()
        }
    ],
    indirect=True,
)
async def test_rasa_json_becomes_a_parse_with_one_entity_per_span(stand_in):
    async with NluClient(f"http://127.0.0.1:{stand_in.port}") as client:
        parse = await client.parse("status of C-12")
    assert (parse.intent, parse.confidence, parse.degraded) == ("case_status", 0.97, None)
    assert [(e.name, e.value, e.text) for e in parse.entities] == [("ticket_id", "C-12", "C-12")]


async def test_empty_text_is_not_sent_and_says_why():
    async with NluClient(f"http://127.0.0.1:{free_port()}") as client:
        for text in ("", "   ", "\u200f\u200e", "\x00\x07"):
            parse = await client.parse(text)
            assert (parse.intent, parse.degraded) == ("nlu_fallback", "empty")


async def test_the_circuit_opens_after_repeated_failures_and_closes_after_the_cooldown():
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown=10, monotonic=lambda: now[0])
    async with NluClient(f"http://127.0.0.1:{free_port()}", timeout=0.2, retries=0, breaker=breaker) as client:
        assert (await client.parse("a")).degraded == "unavailable"
        assert (await client.parse("b")).degraded == "unavailable"
        assert (await client.parse("c")).degraded == "circuit_open"  # not even tried
        now[0] = 11.0
        assert (await client.parse("d")).degraded == "unavailable"  # tried again after the cooldown


def test_cleaning_removes_invisible_marks_and_control_characters_and_bounds_length():
    assert clean_text("\u200fمرحبا\u200e  بك\x00") == "مرحبا بك"
    assert clean_text("book\tservice\r\nnow") == "book service now"
    assert len(clean_text("a" * 10_000)) == 1000
    assert clean_text("😀😀") == "😀😀"
