"""Scheduler figures (issue 14): the scans over a big fleet, and the dispatcher against a rate-limited Bot API.

1. Scans. A fresh database per size (25% of --scan-vehicles, then --scan-vehicles) on SQLite and on
   PostgreSQL: the demo seed (maintenance plans, branches, ...), then bench_import's customers and vehicles
   files, and a service-records file made here (the last periodic service of ~90% of the cars, spread over
   the past two years, so that a realistic share is due now; without any service record a car is due six
   or twelve months after its purchase, long past for almost all of bench_import's cars, and skipped as
   "serviced elsewhere"). Then, each in a process of its own (a clean heap): `scan_service_due` as of
   SCAN_NOW under tracemalloc (the peak of Python's heap), rolled back; every scan of
   `scheduler.scans.SCANS` in its own committed transaction, as `scheduler.run.run_scan` runs them (the
   seconds; the process's peak-RSS growth around the service scan), and all of them once more (the
   idempotent re-run: nothing enqueued twice). --scan-profile also writes a cProfile of the service scan.
2. Dispatch. --dispatch-messages customers, each linked to a Telegram chat, one `service_due` row each
   in the outbox; the real app (bootstrap, compose, the Telegram channel) sends them with
   `Dispatcher.run_once` to a stand-in of the Bot API (its own thread and event loop) that answers 429
   whenever a sendMessage would be the 31st accepted within a sliding second.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import inspect
import multiprocessing
import os
import random
import resource
import threading
import time
import tracemalloc
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import func, insert, select

from benchmarks.bench_import import DATA_DIR, DEFAULT_POSTGRES, _drop_schema, _postgres_schema_url, generate
from db import migrate
from db.demo import seed_demo
from db.engine import make_engine, make_session_factory
from db.imports import import_file
from db.models import ChannelIdentity, Customer, OutboxMessage, Vehicle
from db.validation import parse_date
from tests.telegram_standin import BotApiStandin, _error, _params

IMPORT_NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # bench_import's "now" for the imports
SCAN_NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Dubai")
SCAN_GOAL = "goal (issue 14): < 5 s, memory flat"
RATE = 30  # sendMessage per sliding second the stand-in accepts (Telegram's limit for a bot overall)
RATE_GOAL = 0.95
TOKEN = "123:bench"


# --- 1. scans ----------------------------------------------------------------------------------------------


def service_records(vpath: Path) -> Path:
    """The last periodic service of ~90% of the vehicles of bench_import's file, within the past two years
    (not before the purchase), at a mileage below the imported reading (30-120 km a day since)."""
    path = DATA_DIR / f"service-records-{vpath.stem.removeprefix('vehicles-')}.csv"
    if path.exists():
        return path
    rng = random.Random(14)
    today = IMPORT_NOW.date()
    with vpath.open(newline="", encoding="utf-8") as src, path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["vin", "date", "work", "mileage_km", "cost_aed"])
        for row in csv.DictReader(src):
            if rng.random() < 0.1:
                continue  # never serviced with us: due from the purchase
            ago = rng.randrange(1, 730)
            when = today - timedelta(days=ago)
            if when < parse_date(row["purchase_date"]):
                continue
            km = max(0, int(row["mileage_km"]) - int(ago * rng.uniform(30, 120)))
            w.writerow([row["vin"], when.isoformat(), "Periodic service: oil and filter", km, rng.randrange(300, 1500)])
    return path


def fill(url: str, vehicles: int) -> dict[str, float]:
    """A migrated database with the demo seed and `vehicles` imported cars; the seconds of each step."""
    customers = vehicles * 6 // 10  # bench_import's ratio: 60,000 owners of 100,000 cars
    cpath, vpath = generate(vehicles, customers)
    spath = service_records(vpath)
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    with sessions() as session, session.begin():
        seed_demo(session, IMPORT_NOW)
    seconds["demo seed"] = time.perf_counter() - t0
    for kind, path in (("customers", cpath), ("vehicles", vpath), ("service-records", spath)):
        t0 = time.perf_counter()
        with sessions() as session, session.begin():
            import_file(session, kind, path, IMPORT_NOW, IMPORT_NOW.date())
        seconds[kind] = time.perf_counter() - t0
    engine.dispose()
    return seconds


def _scan_arg(scan: Any) -> Any:
    """What a scan takes after (session, now): the time zone, or (the newer signature) the settings."""
    from dealerbot.settings import load_settings

    third = list(inspect.signature(scan).parameters)[2]
    return TZ if third == "tz" else load_settings(dealerbot_tz=TZ.key, quiet_hours="")


def _reset_peak_rss() -> bool:
    """Reset the process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0); False where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    """The process's peak resident memory (VmHWM, since the last reset), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def scan_child(url: str, mode: str, profile: Path | None = None) -> dict[str, Any]:
    """Run in a fresh process (clean heap and RSS). "traced": the service scan under tracemalloc, rolled back.
    "profile": the service scan under cProfile into `profile`, rolled back. "run": every scan of SCANS in its
    own committed transaction (the service scan's RSS growth measured around it), then every scan again."""
    from scheduler.scans import SCANS, scan_service_due

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:  # connect, import what the first query imports
        session.execute(select(func.count()).select_from(Vehicle)).scalar_one()
    out: dict[str, Any] = {}
    if mode in ("traced", "profile"):
        arg = _scan_arg(scan_service_due)
        session = sessions()
        session.begin()
        if mode == "profile":
            import cProfile

            assert profile is not None
            profiler = cProfile.Profile()
            profiler.runcall(scan_service_due, session, SCAN_NOW, arg)
            profiler.dump_stats(str(profile))
        else:
            tracemalloc.start()
            scan_service_due(session, SCAN_NOW, arg)
            out["peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        session.rollback()
        session.close()
        engine.dispose()
        return out
    for round_ in ("first", "again"):
        for name, scan in SCANS.items():
            if scan is scan_service_due and round_ == "first":
                _reset_peak_rss()
                rss0 = _peak_rss_mb()
            t0 = time.perf_counter()
            with sessions() as session, session.begin():  # as scheduler.run.run_scan: one transaction a scan
                result = scan(session, SCAN_NOW, _scan_arg(scan))
            out[f"{round_}:{name}"] = (time.perf_counter() - t0, result.as_dict())
            if scan is scan_service_due and round_ == "first":
                out["rss_growth_mb"], out["rss_mb"] = _peak_rss_mb() - rss0, _peak_rss_mb()
                out["service_seconds"], out["service"] = out[f"{round_}:{name}"]
    engine.dispose()
    return out


def _in_child(url: str, mode: str, profile: Path | None = None) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(scan_child, url, mode, profile).result()


def _scan_rows(label: str, vehicles: int, fig: dict[str, Any]) -> None:
    first = True
    for key, value in fig.items():
        if not key.startswith("first:"):
            continue
        seconds, r = value
        memory = ""
        if key == "first:service_reminders":
            memory = (f"   peak {fig['peak_mb']:.1f} MB · RSS +{fig['rss_growth_mb']:.1f} MB "
                      f"(peak {fig['rss_mb']:.0f} MB)")
        print(f"  {label if first else '':<10} {f'{vehicles:,}' if first else '':>8}  {key.split(':', 1)[1]:<24} "
              f"{seconds:7.2f} s {r['found']:>7,} {r['enqueued']:>8,} {r['already_enqueued']:>8,} {r['opted_out']:>6,}"
              + memory)
        first = False
    for round_, name in (("first", "all scans"), ("again", "all scans again")):
        rows = [v for k, v in fig.items() if k.startswith(f"{round_}:")]
        print(f"  {'':<10} {'':>8}  {name:<24} {sum(v[0] for v in rows):7.2f} s {sum(v[1]['found'] for v in rows):>7,} "
              f"{sum(v[1]['enqueued'] for v in rows):>8,} {sum(v[1]['already_enqueued'] for v in rows):>8,} "
              f"{sum(v[1]['opted_out'] for v in rows):>6,}")


def bench_scans(sizes: list[int], profile: bool) -> None:
    print(f"scheduler scans as of {SCAN_NOW:%Y-%m-%d %H:%M} UTC ({TZ.key}), chunks of scheduler.scans.CHUNK; "
          f"{SCAN_GOAL}")
    print(f"  {'database':<10} {'vehicles':>8}  {'scan (own transaction)':<24} {'seconds':>9} {'found':>7} "
          f"{'enqueued':>8} {'already':>8} {'opted':>6}   memory of the service scan (tracemalloc; process RSS)")
    base = os.environ.get("DEALERBOT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    for label in ("sqlite", "postgresql"):
        peaks = []
        for vehicles in sizes:
            if label == "sqlite":
                path = DATA_DIR / f"bench-scheduler-{vehicles}.sqlite3"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
                url, schema = f"sqlite:///{path}", None
            else:
                url, schema = _postgres_schema_url(base)
            try:
                setup = fill(url, vehicles)
                print(f"  {label:<10} {vehicles:>8,}  (setup: " + ", ".join(f"{k} {v:.1f} s" for k, v in setup.items()) + ")")
                fig = _in_child(url, "traced")
                if profile and vehicles == sizes[-1]:
                    prof = DATA_DIR / f"scan-{label}-{vehicles}.prof"
                    _in_child(url, "profile", prof)
                    print(f"  {label:<10} cProfile of the service scan (rolled back): {prof}")
                fig |= _in_child(url, "run")
                _scan_rows(label, vehicles, fig)
                peaks.append((vehicles, fig["peak_mb"], fig["service_seconds"]))
            finally:
                if schema is not None:
                    _drop_schema(base, schema)
                else:
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
        (small, small_peak, small_seconds), (big, big_peak, big_seconds) = peaks[0], peaks[-1]
        print(f"  {label:<10} service scan {small:,} → {big:,} vehicles: {small_seconds:.2f} → {big_seconds:.2f} s, "
              f"tracemalloc peak {small_peak:.1f} → {big_peak:.1f} MB (×{big_peak / small_peak:.2f}) — {SCAN_GOAL}")


# --- 2. dispatch -------------------------------------------------------------------------------------------


class RateLimitedStandin(BotApiStandin):
    """The Bot API stand-in, answering 429 to a sendMessage that would be the (RATE+1)th accepted within any
    sliding second; counts the 429s and records every accepted message (time, chat, text)."""

    def __init__(self, token: str, rate: int = RATE, window: float = 1.0) -> None:
        super().__init__(token)
        self.rate, self.window = rate, window
        self.too_many = 0
        self.rejected_at: list[float] = []
        self.accepted: list[tuple[float, int, str]] = []
        self._recent: deque[float] = deque()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "sendMessage" and request.match_info["token"] == self.token:
            params = _params(await request.post())  # aiohttp caches the form: the base class reads it again
            now = time.monotonic()
            while self._recent and now - self._recent[0] >= self.window:
                self._recent.popleft()
            if len(self._recent) >= self.rate:
                self.too_many += 1
                self.rejected_at.append(now)
                return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            self._recent.append(now)
            self.accepted.append((now, int(params["chat_id"]), str(params.get("text", ""))))
        return await super()._handle(request)


class StandinThread:
    """The stand-in on its own event loop in a thread, as a server apart from the app's loop."""

    def __init__(self, standin: RateLimitedStandin) -> None:
        self.standin = standin
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bot-api-standin", daemon=True)

    def __enter__(self) -> RateLimitedStandin:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.standin.start(), self.loop).result(10)
        return self.standin

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.standin.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def fill_outbox(url: str, count: int, now: datetime) -> None:
    """`count` customers, each with a car, a Telegram chat (wrote yesterday) and one service_due row due now."""
    from scheduler.outbox import Pending, enqueue, key

    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        for start in range(0, count, 1000):
            block = range(start, min(count, start + 1000))
            session.execute(insert(Customer), [
                {"phone": f"+9715{8 + i // 10_000_000}{i % 10_000_000:07d}", "name": f"Bench Customer{i}",
                 "preferred_language": "ar" if i % 3 == 0 else "en", "created_at": now, "updated_at": now}
                for i in block
            ])
        customers = session.execute(select(Customer.id).order_by(Customer.id)).scalars().all()
        for start in range(0, count, 1000):
            session.execute(insert(Vehicle), [
                {"vin": f"JTMBENCH{i:09d}", "plate": f"Dubai K {i}", "make": "Toyota", "model": "Camry", "year": 2022,
                 "purchase_date": date(2024, 6, 1), "customer_id": customers[i], "created_at": now, "updated_at": now}
                for i in range(start, min(count, start + 1000))
            ])
            session.execute(insert(ChannelIdentity), [
                {"channel": "telegram", "external_id": str(700_000_000 + i), "customer_id": customers[i],
                 "last_inbound_at": now - timedelta(days=1), "created_at": now - timedelta(days=30)}
                for i in range(start, min(count, start + 1000))
            ])
        vehicles = dict(session.execute(select(Vehicle.customer_id, Vehicle.id)).all())
        due = (now.astimezone(TZ) + timedelta(days=10)).date()
        messages = [
            Pending(key("service_due", f"vehicle-{vehicles[cid]}", due, "notice"), "service_due", cid,
                    {"vehicle_id": vehicles[cid], "due_date": due.isoformat(), "due_km": 40_000, "by": "date",
                     "stage": "notice"}, now - timedelta(minutes=1))
            for cid in customers
        ]
        added = sum(enqueue(session, messages[s : s + 1000], now) for s in range(0, len(messages), 1000))
        assert added == count, added
    engine.dispose()


async def dispatch(url: str, count: int, standin: RateLimitedStandin) -> dict[str, Any]:
    from dealerbot.bootstrap import bootstrap, compose
    from dealerbot.clock import SystemClock
    from dealerbot.settings import load_settings
    from scheduler.dispatch import DispatchResult, Dispatcher

    settings = load_settings(database_url=url, telegram_bot_token=TOKEN, telegram_api_base_url=standin.url,
                             quiet_hours="", log_level="ERROR", staff_telegram_chat_id=None)
    app = bootstrap(settings, clock=SystemClock())
    services = compose(app, channels=["telegram"])
    await services.channels["telegram"].start_sending()
    dispatcher = Dispatcher(app, services.channels)

    def remaining() -> int:
        with app.transaction() as session:
            return session.scalar(select(func.count()).select_from(OutboxMessage)
                                  .where(OutboxMessage.status.in_(("pending", "sending")))) or 0

    total = DispatchResult()
    passes = 0
    deadline = time.perf_counter() + count / RATE * 3 + 120
    t0 = time.perf_counter()
    try:
        while True:
            result = await dispatcher.run_once()
            total.add(result)
            passes += 1
            if await asyncio.to_thread(remaining) == 0 or time.perf_counter() > deadline:
                break
            if result.sent == 0:
                await asyncio.sleep(0.5)  # what is left waits for its retry time
        wall = time.perf_counter() - t0
        with app.transaction() as session:
            statuses = dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
            attempts = dict(session.execute(select(OutboxMessage.attempts, func.count()).group_by(OutboxMessage.attempts)).all())
    finally:
        await services.aclose()
        app.close()
    return {"wall": wall, "passes": passes, "result": total.as_dict(), "statuses": statuses, "attempts": attempts}


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def bench_dispatch(count: int) -> None:
    print(f"scheduler dispatch: {count:,} service_due rows → Telegram (Bot API stand-in: 429 above {RATE} "
          f"sendMessage in any sliding second); goal: ≥ {RATE_GOAL:.2f} × {RATE}/s, 0 × 429, 0 lost, 0 duplicated")
    path = DATA_DIR / "bench-scheduler-dispatch.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    t0 = time.perf_counter()
    fill_outbox(url, count, datetime.now(UTC))
    print(f"  sqlite     (setup: {count:,} customers, cars, Telegram chats and outbox rows {time.perf_counter() - t0:.1f} s)")
    standin = RateLimitedStandin(TOKEN)
    try:
        with StandinThread(standin):
            fig = asyncio.run(dispatch(url, count, standin))
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    per_chat = Counter(chat for _, chat, _ in standin.accepted)
    duplicated = sum(n - 1 for n in per_chat.values() if n > 1)
    lost = count - fig["statuses"].get("sent", 0)
    times = [at for at, _, _ in standin.accepted]
    rate = fig["statuses"].get("sent", 0) / fig["wall"]
    steady = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    print(f"  sqlite     wall {fig['wall']:.1f} s ({fig['passes']} run_once passes) · {rate:.2f} msg/s = "
          f"{rate / RATE:.3f} × {RATE}/s (first to last accepted: {steady:.2f} msg/s) · 429s {standin.too_many:,} · "
          f"lost {lost:,} · duplicated {duplicated:,}")
    if standin.rejected_at:
        gaps = [b - a for a, b in zip(standin.rejected_at, standin.rejected_at[1:])]
        then = f", then one every {sum(gaps) / len(gaps):.2f} s on average" if gaps else ""
        print(f"  {'':<10} 429s: the first {standin.rejected_at[0] - times[0]:+.2f} s after the first accepted message{then}")
    print(f"  {'':<10} accepted {len(standin.accepted):,}, at most {_max_in_window(times)} in a second and "
          f"{_max_in_window(times, 0.2)} in 0.2 s · "
          f"outbox {dict(sorted(fig['statuses'].items()))} · attempts {dict(sorted(fig['attempts'].items()))} · "
          f"dispatcher {fig['result']}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_scheduler")
    parser.add_argument("--scan-vehicles", type=int, default=100_000,
                        help="the larger fleet scanned (also a quarter of it, to see memory stay flat)")
    parser.add_argument("--dispatch-messages", type=int, default=10_000)
    parser.add_argument("--scan-profile", action="store_true", help="also cProfile the service scan of the larger fleet")
    parser.add_argument("--skip-scan", action="store_true")
    parser.add_argument("--skip-dispatch", action="store_true")
    args, _ = parser.parse_known_args(argv)
    DATA_DIR.mkdir(exist_ok=True)
    if not args.skip_scan:
        bench_scans([max(1, args.scan_vehicles // 4), args.scan_vehicles], args.scan_profile)
    if not args.skip_dispatch:
        bench_dispatch(args.dispatch_messages)
