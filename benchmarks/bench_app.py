"""App figures: inbound WhatsApp message → replies out, through `dealerbot serve` (a process of its own),
the real Rasa server and PostgreSQL, beside bare Rasa `/model/parse` on the same messages in the same run.

The load generator signs each webhook with Twilio's RequestValidator, posts it to the app, and a stand-in
of Twilio's REST API (in this process) receives the replies. A message's latency runs from the webhook
POST until the last of its replies reached the stand-in (the number of replies is read from the
transcript once the webhook answered). Each virtual customer sends their next message only after that;
`concurrency` customers write at once. Then the app's resident memory after 10,000 messages.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode

import httpx
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from benchmarks.bench_core import SCRIPT_AR, SCRIPT_EN, _database, _drop, demo_customers
from benchmarks.bench_nlu import _latencies, percentile, rss_mb
from db.engine import make_engine
from db.models import ChannelIdentity, ChatMessage
from dealerbot.logging import configure_logging
from nlu import rasa
from nlu.commands import free_port

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"
FROM = "whatsapp:+14155238886"
DEALERBOT = str(Path(sys.executable).with_name("dealerbot"))


class TwilioSink:
    """Twilio's Messages endpoint, counting what arrives per recipient."""

    def __init__(self) -> None:
        self.received: dict[str, int] = defaultdict(int)
        self.changed = asyncio.Condition()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._message)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"

    async def _message(self, request: web.Request) -> web.Response:
        form = await request.post()
        to = str(form.get("To", "")).removeprefix("whatsapp:")
        async with self.changed:
            self.received[to] += 1
            self.changed.notify_all()
        sid = "SM" + uuid.uuid4().hex
        return web.json_response({"sid": sid, "status": "queued", "to": form.get("To")}, status=201)

    async def wait_for(self, to: str, count: int, timeout: float = 30) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: self.received[to] >= count), timeout)

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


class Load:
    def __init__(self, app_url: str, public_url: str, sink: TwilioSink, db_url: str) -> None:
        self.app_url = app_url
        self.public_url = public_url
        self.sink = sink
        self.validator = RequestValidator(AUTH_TOKEN)
        self.engine = make_engine(db_url, pool_size=4)
        self.identity_ids: dict[str, int] = {}
        self.outs: dict[str, int] = {}  # replies counted in the transcript so far, per sender

    def out_count(self, phone: str) -> int:
        with Session(self.engine) as session:
            identity_id = self.identity_ids.get(phone)
            if identity_id is None:
                identity_id = session.scalar(
                    select(ChannelIdentity.id).where(
                        ChannelIdentity.channel == "whatsapp", ChannelIdentity.external_id == phone)
                )
                if identity_id is None:
                    return 0
                self.identity_ids[phone] = identity_id
            return session.scalar(
                select(func.count(ChatMessage.id)).where(
                    ChatMessage.channel_identity_id == identity_id, ChatMessage.direction == "out")
            ) or 0

    async def one(self, client: httpx.AsyncClient, phone: str, said: str) -> float:
        params = {"From": f"whatsapp:{phone}", "To": FROM, "Body": said, "MessageSid": "SM" + uuid.uuid4().hex,
                  "AccountSid": ACCOUNT_SID, "NumMedia": "0", "ProfileName": "Bench"}
        signature = self.validator.compute_signature(f"{self.public_url}/twilio/whatsapp", params)
        outs_before = self.outs.get(phone)
        if outs_before is None:
            outs_before = await asyncio.to_thread(self.out_count, phone)
        received_before = self.sink.received[phone]
        t0 = time.perf_counter()
        response = await client.post("/twilio/whatsapp", content=urlencode(params), headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
        response.raise_for_status()
        self.outs[phone] = await asyncio.to_thread(self.out_count, phone)
        replies = self.outs[phone] - outs_before
        if replies:
            await self.sink.wait_for(phone, received_before + replies)
        return (time.perf_counter() - t0) * 1000

    async def run(self, conversations: list[tuple[str, list[str]]], concurrency: int) -> tuple[list[float], float]:
        timings: list[float] = []
        queue = list(conversations)
        async with httpx.AsyncClient(base_url=self.app_url, timeout=60) as client:

            async def customer() -> None:
                while queue:
                    phone, messages = queue.pop()
                    for said in messages:
                        timings.append(await self.one(client, phone, said))

            started = time.perf_counter()
            await asyncio.gather(*(customer() for _ in range(concurrency)))
            return timings, time.perf_counter() - started


def conversations(phones: list[tuple[str, str]], count: int, concurrency: int) -> list[tuple[str, list[str]]]:
    """`count` messages in all, spread over at least `concurrency` senders (demo customers first, then
    unknown numbers), each playing the English or Arabic script."""
    senders = list(phones)
    extra = 0
    while len(senders) < max(concurrency, 1) * 2:
        senders.append((f"+9715098{extra:05d}", "en" if extra % 2 else "ar"))
        extra += 1
    per_sender = max(1, count // len(senders))
    result = []
    total = 0
    for phone, language in senders:
        script = SCRIPT_AR if language == "ar" else SCRIPT_EN
        take = min(per_sender, count - total)
        if take <= 0:
            break
        result.append((phone, [script[i % len(script)] for i in range(take)]))
        total += take
    return result


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, ..., utime at 11, stime,
    cutime, cstime)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU time a process has used (its threads included; with children, also what its
    exited and reaped children used)."""
    fields = _stat(pid)
    used = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return used / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time the PostgreSQL server has used: its live processes, plus (on the postmaster) what its
    exited children used, so a connection closed during a run still counts."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() != "postgres":
                continue
            parent = Path(f"/proc/{_stat(int(proc.name))[1]}/comm")
            postmaster = not parent.exists() or parent.read_text().strip() != "postgres"
            total += cpu_seconds(int(proc.name), children=postmaster)
        except (OSError, IndexError):
            continue  # gone meanwhile, or not readable
    return total


def figures(label: str, timings: list[float], elapsed: float) -> str:
    return (f"{label}: {len(timings) / elapsed:,.1f} msg/s, p50 {percentile(timings, 50):.1f} ms, "
            f"p99 {percentile(timings, 99):.1f} ms, mean {statistics.mean(timings):.1f} ms ({len(timings):,} messages)")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_app")
    parser.add_argument("--app-messages", type=int, default=600, help="messages per concurrency level")
    parser.add_argument("--memory-messages", type=int, default=10_000)
    args, _ = parser.parse_known_args(argv)
    configure_logging("WARNING", "console")
    project = rasa.RasaProject()
    print("app (signed WhatsApp webhook in → replies out at a Twilio stand-in; dealerbot serve, Rasa, PostgreSQL):")
    with tempfile.TemporaryDirectory(prefix="dealerbot-bench-app-") as tmp_name:
        tmp = Path(tmp_name)
        model = rasa.train(project).model
        with rasa.running_server(project, model, free_port(), tmp / "rasa.log") as server:
            url, handle = _database("postgresql", tmp)
            try:
                engine = make_engine(url)
                phones = demo_customers(engine)
                engine.dispose()
                asyncio.run(_measure(server.url, url, phones, args, tmp, server.process.pid))
            finally:
                _drop(handle)


async def _measure(rasa_url: str, db_url: str, phones: list[tuple[str, str]], args: argparse.Namespace, tmp: Path,
                   rasa_pid: int) -> None:
    sink = TwilioSink()
    await sink.start()
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_"))}
    env.update(DATABASE_URL=db_url, RASA_URL=rasa_url, TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
               TWILIO_WHATSAPP_FROM=FROM, TWILIO_API_BASE_URL=sink.url, PUBLIC_BASE_URL=public,
               WHATSAPP_RATE_PER_SECOND="1000", LOG_LEVEL="WARNING", LOG_FORMAT="json")
    log_file = open(tmp / "serve.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen([DEALERBOT, "serve", "--port", str(port)], env=env, stdout=log_file, stderr=log_file)
    load = Load(public, public, sink, db_url)
    try:
        await _ready(public)
        await load.run(conversations(phones, 100, 8), 8)  # warm-up
        for concurrency in (1, 8, 32):
            batch = conversations(phones, args.app_messages, concurrency)
            texts = [said for _, messages in batch for said in messages]
            parse_timings, parse_elapsed, _ = await _latencies(rasa_url, texts, concurrency)
            cpu_before = (cpu_seconds(process.pid), cpu_seconds(rasa_pid), postgres_cpu_seconds(),
                          cpu_seconds(os.getpid()))
            app_timings, app_elapsed = await load.run(batch, concurrency)
            cpu_after = (cpu_seconds(process.pid), cpu_seconds(rasa_pid), postgres_cpu_seconds(),
                         cpu_seconds(os.getpid()))
            per = [(b - a) * 1000 / len(app_timings) for a, b in zip(cpu_before, cpu_after, strict=True)]
            parse_rate = len(parse_timings) / parse_elapsed
            app_rate = len(app_timings) / app_elapsed
            print("  " + figures(f"concurrency {concurrency:>2}, bare /model/parse", parse_timings, parse_elapsed))
            print("  " + figures(f"concurrency {concurrency:>2}, app", app_timings, app_elapsed)
                  + f" — {app_rate / parse_rate:.2f} of bare parse throughput")
            cores = len(os.sched_getaffinity(0))
            print(f"     CPU per message: app {per[0]:.1f} ms, Rasa {per[1]:.1f} ms, PostgreSQL {per[2]:.1f} ms, "
                  f"load generator and Twilio stand-in {per[3]:.1f} ms; {sum(per):.1f} ms in all, so at most "
                  f"{cores * 1000 / sum(per):,.0f} msg/s on {cores} cores")
        start_rss = rss_mb(process.pid)
        done = 0
        marks = []
        while done < args.memory_messages:
            batch = conversations(phones, min(2_000, args.memory_messages - done), 8)
            await load.run(batch, 8)
            done += sum(len(m) for _, m in batch)
            marks.append(f"{done:,}: {rss_mb(process.pid):.0f} MB")
        print(f"  app resident memory: {start_rss:.0f} MB after the timed runs; after more messages: " + ", ".join(marks))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log_file.close()
        load.engine.dispose()
        await sink.close()


async def _ready(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("dealerbot serve did not answer /healthz")
