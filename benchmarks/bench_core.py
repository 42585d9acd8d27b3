"""Core figures: messages handled per second through the whole core — identity, conversation state,
the real Rasa server, the action handlers, the database — on SQLite and on PostgreSQL.

Every demo customer (and some unknown senders) plays a short scripted conversation in English or
Arabic: greetings, questions about their cars, warranty, recalls, branch info, a booking flow they
abandon, thanks. Latency is per message as the channel sees it (inbound message → replies).
Sequentially, and with 8 customers writing at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from benchmarks.bench_nlu import percentile
from bot.core import Assistant
from actions.kit.types import InboundMessage
from db import migrate
from db.demo import seed_demo
from db.engine import make_engine, make_session_factory, normalise_url
from db.models import Customer
from dealerbot.bootstrap import App
from dealerbot.clock import FixedClock
from dealerbot.logging import configure_logging
from dealerbot.settings import load_settings
from nlu import rasa
from nlu.client import NluClient
from nlu.commands import free_port

NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
SCRIPT_EN = [
    "hi",
    "when is my next service due?",
    "show me my service history",
    "is the gearbox covered by my warranty?",
    "any recalls on my car?",
    "what are the opening hours of the abu dhabi branch",
    "I want to book an oil change",
    "cancel",
    "what's the status of my complaint",
    "thanks, bye",
]
SCRIPT_AR = [
    "مرحبا",
    "متى موعد الصيانة القادمة لسيارتي؟",
    "ابي سجل الصيانة",
    "هل القير مشمول بالضمان؟",
    "هل في استدعاء على سيارتي؟",
    "وين فرع الشارقة وشو مواعيد الدوام",
    "ابي احجز موعد تغيير زيت",
    "إلغاء",
    "شكرا",
]


def _database(backend: str, tmp: Path) -> tuple[str, object]:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'bench-core.sqlite3'}", None
    base = normalise_url(os.environ.get("DEALERBOT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    schema = f"dealerbot_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    return url, (admin, schema)


def demo_customers(engine: Engine) -> list[tuple[str, str]]:
    """Migrate and seed the demo dealership (as of NOW); its customers' phones and languages."""
    migrate.upgrade(engine)
    with Session(engine) as session, session.begin():
        seed_demo(session, NOW)
    with Session(engine) as session:
        return [(c.phone, c.preferred_language) for c in session.scalars(select(Customer).order_by(Customer.id))]


def _drop(handle: object) -> None:
    if handle is None:
        return
    admin, schema = handle  # type: ignore[misc]
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _conversations(phones: list[tuple[str, str]], count: int) -> list[list[InboundMessage]]:
    """Per sender, its messages; `count` messages in all, cycling over the senders."""
    scripts: dict[str, list[InboundMessage]] = {}
    order = []
    total = 0
    while total < count:
        for phone, language in phones:
            script = SCRIPT_AR if language == "ar" else SCRIPT_EN
            sent = scripts.setdefault(phone, [])
            sent.append(InboundMessage(channel="console", sender=phone, phone=phone, text=script[len(sent) % len(script)]))
            order.append(phone)
            total += 1
            if total >= count:
                break
    return [scripts[p] for p in dict.fromkeys(order)]


async def _run(assistant: Assistant, conversations: list[list[InboundMessage]], concurrency: int) -> tuple[list[float], float]:
    timings: list[float] = []
    queue = list(conversations)

    async def worker() -> None:
        while queue:
            messages = queue.pop()
            for message in messages:
                t0 = time.perf_counter()
                replies = await assistant.handle(message)
                timings.append((time.perf_counter() - t0) * 1000)
                if not replies:
                    raise RuntimeError("the core answered nothing")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return timings, time.perf_counter() - started


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_core")
    parser.add_argument("--core-messages", type=int, default=1000)
    args, _ = parser.parse_known_args(argv)
    configure_logging("WARNING", "console")  # the figures, not every handler's log line
    project = rasa.RasaProject()
    print("core (message in → replies out, real Rasa server and database):")
    with tempfile.TemporaryDirectory(prefix="dealerbot-bench-core-") as tmp_name:
        tmp = Path(tmp_name)
        model = rasa.train(project).model
        with rasa.running_server(project, model, free_port(), tmp / "rasa.log") as server:
            for backend in ("sqlite", "postgresql"):
                url, handle = _database(backend, tmp)
                try:
                    engine = make_engine(url)
                    phones = demo_customers(engine)
                    phones += [(f"+97150999{i:04d}", "en") for i in range(5)]  # unknown senders
                    app = App(load_settings(database_url=url), engine, make_session_factory(engine), FixedClock(NOW))
                    for concurrency in (1, 8):
                        conversations = _conversations(phones, args.core_messages)

                        async def measure() -> tuple[list[float], float]:
                            async with NluClient(server.url, timeout=10) as nlu:
                                return await _run(Assistant(transaction=app.transaction, settings=app.settings, clock=app.clock, nlu=nlu), conversations, concurrency)

                        timings, elapsed = asyncio.run(measure())
                        print(
                            f"  {backend}, {len(timings):,} messages, concurrency {concurrency}: "
                            f"{len(timings) / elapsed:,.0f} messages/s, p50 {percentile(timings, 50):.1f} ms, "
                            f"p99 {percentile(timings, 99):.1f} ms, mean {statistics.mean(timings):.1f} ms"
                        )
                    engine.dispose()
                finally:
                    _drop(handle)
