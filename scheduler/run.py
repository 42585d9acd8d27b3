"""`dealerbot scheduler run-once`: every scan once as of a moment, then one dispatch pass.

Operators use it for catch-up and cron-style setups: the scans are idempotent (scheduler.outbox), so
running it again, or beside the running scheduler, adds nothing twice, and the dispatcher's claims keep
two dispatchers from sending the same row.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread

from bot.channels import Channel
from dealerbot.bootstrap import App
from dealerbot.logging import get_logger
from scheduler.dispatch import Dispatcher
from scheduler.scans import SCANS, ScanResult

log = get_logger("scheduler.run")


def run_scan(app: App, name: str) -> ScanResult:
    """One scan as of the app's clock, in one transaction: all of it is written, or none."""
    now = app.clock.now()
    with app.transaction() as session:
        result = SCANS[name](session, now, app.settings)
    log.info("scan_done", job=name, **result.as_dict())
    return result


async def run_once(app: App, channels: dict[str, Channel]) -> dict[str, Any]:
    """{job: {found, enqueued, already_enqueued, opted_out}, ..., "dispatch": {sent, deferred_quiet_hours,
    failed, dead, no_template}}."""
    report: dict[str, Any] = {}
    for name in SCANS:
        result = await anyio.to_thread.run_sync(run_scan, app, name)
        report[name] = result.as_dict()
    report["dispatch"] = (await Dispatcher(app, channels).run_once()).as_dict()
    return report
