"""The outbox under failure, with real processes: `dealerbot scheduler` and `run-once` as subprocesses,
killed with SIGKILL, two of them on one PostgreSQL, sending to a local Bot API stand-in over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import migrate
from db.engine import make_engine
from db.models import ChannelIdentity, Customer, OutboxMessage, Vehicle
from tests.telegram_standin import BotApiStandin

DEALERBOT = str(Path(sys.executable).with_name("dealerbot"))
TOKEN = "123456:reliability-token"
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 10:00 in Dubai
FIRST_CHAT = 7_000_000


def fill(url: str, customers: int, first: int = 0) -> None:
    """Customers on Telegram whose car's first service falls due in a week (the default plan: 6 months)."""
    engine = make_engine(url)
    if first == 0:
        migrate.upgrade(engine)
    due_purchase = (NOW + timedelta(days=7)).date() - relativedelta(months=6)
    with Session(engine) as session, session.begin():
        for n in range(first, first + customers):
            customer = Customer(phone=f"+97150{n:07d}", name=f"Customer {n}", created_at=NOW, updated_at=NOW)
            session.add(customer)
            session.flush()
            session.add(Vehicle(vin=f"TESTVIN{n:010d}", make="Toyota", model="Corolla", year=2024,
                                purchase_date=due_purchase, customer_id=customer.id, created_at=NOW, updated_at=NOW))
            session.add(ChannelIdentity(customer_id=customer.id, channel="telegram", external_id=str(FIRST_CHAT + n),
                                        created_at=NOW, last_inbound_at=NOW - timedelta(days=1)))
    engine.dispose()


def outbox_statuses(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with Session(engine) as session:
        counted = dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    engine.dispose()
    return counted


def environment(url: str, api: BotApiStandin, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "STAFF_", "PUBLIC_"))}
    env.update(DATABASE_URL=url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=api.url, LOG_FORMAT="json",
               LOG_LEVEL="INFO", QUIET_HOURS="", **extra)
    return env


async def until(condition: Any, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def chats(api: BotApiStandin) -> Counter[int]:
    return Counter(int(p["chat_id"]) for p in api.sent())


async def test_sigkill_in_the_middle_of_1000_reminders_then_a_restart_sends_each_once(
        empty_db_url: str, tmp_path: Path) -> None:
    fill(empty_db_url, 1000)
    api = BotApiStandin(token=TOKEN)
    await api.start()
    try:
        env = environment(empty_db_url, api)
        first = await asyncio.create_subprocess_exec(
            DEALERBOT, "scheduler", "run-once", "--now", NOW.isoformat(), env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=(tmp_path / "first.log").open("w"))
        await until(lambda: len(api.sent()) >= 300, 120, "300 messages before the kill")
        first.send_signal(signal.SIGKILL)
        await first.wait()
        before_restart = len(api.sent())
        assert before_restart < 1000, "the kill came too late to test anything"
        # After a crash, what the dead process had claimed waits for its lease (5 minutes) to end.
        later = (NOW + timedelta(minutes=6)).isoformat()
        second = await asyncio.create_subprocess_exec(
            DEALERBOT, "scheduler", "run-once", "--now", later, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=(tmp_path / "second.log").open("w"))
        out, _ = await asyncio.wait_for(second.communicate(), 240)
        assert second.returncode == 0, (tmp_path / "second.log").read_text()[-2000:]
        report = json.loads(out)
        received = chats(api)
        assert set(received) == {FIRST_CHAT + n for n in range(1000)}  # none lost
        twice = {chat: n for chat, n in received.items() if n > 1}
        assert len(twice) <= 1 and all(n == 2 for n in twice.values()), twice  # at most the one in flight
        assert outbox_statuses(empty_db_url) == {"sent": 1000}
        assert report["dispatch"]["sent"] == 1000 - before_restart + len(twice)
    finally:
        await api.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_two_instances_send_every_row_once_and_one_takes_over_when_the_leader_dies(
        empty_db_url: str, tmp_path: Path) -> None:
    fill(empty_db_url, 300)
    api = BotApiStandin(token=TOKEN)
    await api.start()
    env = environment(empty_db_url, api, SCHEDULER_LEADER_POLL_SECONDS="1", DISPATCH_EVERY_SECONDS="0.5",
                      SCHEDULER_SCAN_SECONDS="3600")
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    processes = [
        await asyncio.create_subprocess_exec(DEALERBOT, "scheduler", env=env, stdout=asyncio.subprocess.DEVNULL,
                                             stderr=log.open("w"))
        for log in logs
    ]
    try:
        await until(lambda: len(chats(api)) >= 300, 120, "300 chats to get their reminder")
        await asyncio.sleep(1.0)  # anything sent twice would show now
        received = chats(api)
        assert len(received) == 300 and set(received.values()) == {1}, [c for c, n in received.items() if n > 1]

        def leader() -> int | None:
            for index, log in enumerate(logs):
                for line in log.read_text().splitlines():
                    if '"scheduler_leader"' in line and processes[index].returncode is None:
                        return index
            return None

        await until(lambda: leader() is not None, 10, "a leader")
        dead = leader()
        assert dead is not None
        other = 1 - dead
        assert '"scheduler_leader"' not in logs[other].read_text()  # exactly one leads
        processes[dead].send_signal(signal.SIGKILL)
        await processes[dead].wait()
        fill(empty_db_url, 1, first=300)  # a reminder falls due after the leader died
        took = await until(lambda: FIRST_CHAT + 300 in chats(api), 30, "the other instance to lead and scan")
        assert '"scheduler_leader"' in logs[other].read_text()
        assert took < 30
        assert chats(api)[FIRST_CHAT + 300] == 1
        processes[other].send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(processes[other].wait(), 30) == 0
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await api.close()
