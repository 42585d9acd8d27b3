"""`dealerbot scheduler` (and `dealerbot serve` unless --no-scheduler): the scans on a timer, on one
instance only, and the dispatcher on every instance.

- Every instance runs a dispatcher loop: a pass every DISPATCH_EVERY_SECONDS, at once again when a pass
  filled its batch (scheduler.dispatch; its claims keep instances from sending a row twice).
- One instance, the leader, runs the scans (scheduler.scans) as APScheduler jobs. The leader is whoever
  holds a lock the database gives one holder at a time: a PostgreSQL session advisory lock, or on SQLite
  an exclusive lock on a file beside the database (one machine). Both go with the process or connection
  that held them, a SIGKILL included, and the others try for the lock every
  SCHEDULER_LEADER_POLL_SECONDS (5): when the leader dies another takes over within that time (goal: 30 s)
  and runs every scan at once (it cannot know whether its predecessor finished one), then every
  SCHEDULER_SCAN_SECONDS (300).
- The jobs live in their own SQLAlchemy job store (the `scheduler_jobs` table) with stable ids
  (`scan:<name>`). A job store that outlives the process knows when each scan last fell due, so a
  scheduler that was down runs the missed scans once at start (see the job options below) instead of
  waiting a whole interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from bot.channels import Channel
from dealerbot.bootstrap import App
from dealerbot.logging import get_logger
from scheduler.dispatch import Dispatcher
from scheduler.run import run_scan
from scheduler.scans import SCANS

log = get_logger("scheduler.service")

# A constant of this program: the key of the PostgreSQL advisory lock of the scheduler's leader.
ADVISORY_KEY = 0x6465616C  # "deal"

# The job options, on purpose:
# - coalesce: after a stop, however many runs were missed, one run: a scan finds everything due as of
#   now, so running it N times would only repeat the same work.
# - misfire_grace_time None: a missed run is never dropped, however late (a scan is a catch-up by design;
#   dropping it would leave reminders unsent until the next interval).
# - max_instances 1: a scan that takes longer than its interval is not started twice.
JOB_DEFAULTS = {"coalesce": True, "misfire_grace_time": None, "max_instances": 1}

_running: SchedulerService | None = None


def run_scan_job(name: str) -> None:
    """What a job runs (a module-level function: the job store keeps a reference to it, not the app)."""
    service = _running
    if service is None:
        log.warning("scan_job_without_service", job=name)
        return
    run_scan(service.app, name)
    service.wake()


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...

    def held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresLeaderLock:
    """pg_try_advisory_lock on a connection of its own, kept open while leading."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.connection: Connection | None = None

    def try_acquire(self) -> bool:
        connection = self.app.engine.connect()
        try:
            got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar())
            connection.commit()
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self.connection = connection
        return True

    def held(self) -> bool:
        if self.connection is None:
            return False
        try:
            self.connection.execute(text("SELECT 1")).scalar()
            self.connection.commit()
            return True
        except Exception:  # noqa: BLE001 - the connection is gone, and the lock with it
            self.release()
            return False

    def release(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                self.connection.commit()
            with contextlib.suppress(Exception):
                self.connection.invalidate()
                self.connection.close()
            self.connection = None


class FileLeaderLock:
    """An exclusive flock on `<database file>.scheduler.lock` (SQLite: the instances share one machine)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def leader_lock(app: App) -> LeaderLock:
    url = make_url(app.engine.url)
    if url.get_backend_name() == "postgresql":
        return PostgresLeaderLock(app)
    database = url.database or ""
    if not database or database == ":memory:":
        raise ValueError("the scheduler needs a database file or PostgreSQL (an in-memory SQLite has no leader)")
    return FileLeaderLock(Path(database).with_name(Path(database).name + ".scheduler.lock"))


class SchedulerService:
    def __init__(self, app: App, channels: dict[str, Channel]) -> None:
        self.app = app
        self.channels = channels
        self.scan_every = timedelta(seconds=app.settings.scheduler_scan_seconds)
        self.dispatch_every = app.settings.dispatch_every_seconds
        self.leader_poll = app.settings.scheduler_leader_poll_seconds
        self.lock = leader_lock(app)
        self.leading = False
        self._scheduler: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------
    async def start(self) -> None:
        global _running
        _running = self
        self._loop = asyncio.get_running_loop()
        self._tasks = [asyncio.create_task(self._dispatch_loop()), asyncio.create_task(self._leader_loop())]
        log.info("scheduler_started", scan_every_s=int(self.scan_every.total_seconds()))

    async def stop(self) -> None:
        global _running
        # The loops also check this flag: a cancellation that lands while a shielded thread call returns
        # (anyio.to_thread, asyncio.wait_for before 3.12) can be lost, and shutdown must not hang on it.
        self._stopping = True
        self._wake.set()
        pending = set(self._tasks)
        for _ in range(3):
            for task in pending:
                task.cancel()
            _done, pending = await asyncio.wait(pending, timeout=5) if pending else (set(), set())
            if not pending:
                break
        if pending:
            log.warning("scheduler_tasks_left_running", tasks=len(pending))
        self._stop_jobs()
        self.lock.release()
        if _running is self:
            _running = None
        log.info("scheduler_stopped")

    async def run_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    def wake(self) -> None:
        """Dispatch now (a scan just enqueued); callable from any thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    # --- the dispatcher ----------------------------------------------------------------------------------
    async def _dispatch_loop(self) -> None:
        dispatcher = Dispatcher(self.app, self.channels)
        while not self._stopping:
            try:
                result = await dispatcher.run_once()  # until nothing due is left
                if any(result.as_dict().values()):
                    log.info("dispatch_pass", **result.as_dict())
            except Exception:  # noqa: BLE001 - a database hiccup must not stop the loop
                log.exception("dispatch_failed")
            if self._stopping:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.dispatch_every)

    # --- leadership and the scans ------------------------------------------------------------------------
    async def _leader_loop(self) -> None:
        while not self._stopping:
            try:
                if self.leading:
                    if not await asyncio.to_thread(self.lock.held):
                        log.warning("scheduler_leadership_lost")
                        self.leading = False
                        self._stop_jobs()
                elif await asyncio.to_thread(self.lock.try_acquire):
                    self.leading = True
                    log.info("scheduler_leader", pid=os.getpid())
                    self._start_jobs()
            except Exception:  # noqa: BLE001 - the database may be down: try again later
                log.exception("scheduler_leader_check_failed")
            await asyncio.sleep(self.leader_poll)

    def _start_jobs(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        from db.models import SCHEDULER_JOBS_TABLE

        store = SQLAlchemyJobStore(engine=self.app.engine, tablename=SCHEDULER_JOBS_TABLE.name)
        # Two scans at a time at most: they share the database with the chat.
        scheduler = AsyncIOScheduler(jobstores={"default": store}, executors={"default": ThreadPoolExecutor(2)},
                                     job_defaults=JOB_DEFAULTS, timezone=self.app.settings.tz)
        scheduler.start(paused=True)
        for name in SCANS:
            job_id = f"scan:{name}"
            job = scheduler.get_job(job_id)
            interval = int(self.scan_every.total_seconds())
            if job is None:
                scheduler.add_job(f"{__name__}:run_scan_job", "interval", seconds=interval, id=job_id, args=[name],
                                  name=f"scan {name}")
            elif getattr(job.trigger, "interval", None) != timedelta(seconds=interval):
                scheduler.reschedule_job(job_id, trigger="interval", seconds=interval)
            # A new leader scans at once: its predecessor may have died in the middle of a scan.
            scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))
        for job in scheduler.get_jobs():
            if job.id.startswith("scan:") and job.id.removeprefix("scan:") not in SCANS:
                job.remove()  # a scan of an older version
        scheduler.resume()
        self._scheduler = scheduler

    def _stop_jobs(self) -> None:
        if self._scheduler is not None:
            with contextlib.suppress(Exception):
                self._scheduler.shutdown(wait=False)
            self._scheduler = None
