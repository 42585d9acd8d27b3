"""A local stand-in for Twilio's REST API: a real HTTP server on 127.0.0.1 (aiohttp.web in a thread).

It records every `POST /2010-04-01/Accounts/{sid}/Messages.json` (the form and the Basic auth) and answers
a Message resource with a new SID and status "queued", or, when told, one of Twilio's errors.

Media a customer sent (`add_media`): `GET .../Messages/{MM}/Media/{ME}` checks the Basic auth, then, as
Twilio does, redirects to its storage: here a second port of the stand-in (another origin), which records
whether the credentials came along (they must not).
"""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class SentMessage:
    account_sid: str
    form: dict[str, str]
    auth: tuple[str, str] | None
    sid: str | None  # None when the stand-in answered an error

    @property
    def to(self) -> str:
        return self.form.get("To", "")

    @property
    def body(self) -> str:
        return self.form.get("Body", "")


@dataclass(frozen=True)
class Failure:
    status: int
    code: int
    message: str


class TwilioStandIn:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[SentMessage] = []
        self._failures: deque[Failure] = deque()
        self.url = ""
        self.storage_url = ""
        self.media: dict[str, tuple[bytes, str]] = {}  # media SID -> (bytes, content type)
        self.media_auth: tuple[str, str] | None = None  # the Basic auth media requests must carry
        self.storage_requests: list[str | None] = []  # each storage GET's Authorization header (None: none)

    # --- what tests use -----------------------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._failures.clear()
            self.media.clear()
            self.storage_requests.clear()
        self.media_auth = None

    def fail_next(self, status: int, code: int, times: int = 1, message: str = "stand-in error") -> None:
        """The next `times` Messages requests answer this error instead of a message."""
        with self._lock:
            self._failures.extend(Failure(status, code, message) for _ in range(times))

    def add_media(self, account_sid: str, data: bytes, content_type: str) -> str:
        """A file a customer sent: the MediaUrl0 Twilio's webhook would carry (on api.twilio.com)."""
        media_sid = "ME" + uuid.uuid4().hex
        with self._lock:
            self.media[media_sid] = (data, content_type)
        return f"https://api.twilio.com/2010-04-01/Accounts/{account_sid}/Messages/MM{uuid.uuid4().hex}/Media/{media_sid}"

    @property
    def requests(self) -> list[SentMessage]:
        """Every Messages request, refused ones included."""
        with self._lock:
            return list(self._requests)

    @property
    def messages(self) -> list[SentMessage]:
        """The messages accepted (answered with a SID)."""
        return [r for r in self.requests if r.sid is not None]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("the stand-in did not see what was expected in time")
            time.sleep(0.005)

    # --- the server ---------------------------------------------------------------------------------------
    async def _create_message(self, request: web.Request) -> web.Response:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        auth = _basic_auth(request.headers.get("Authorization"))
        account_sid = request.match_info["sid"]
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
            sid = None if failure else "SM" + uuid.uuid4().hex
            self._requests.append(SentMessage(account_sid, form, auth, sid))
        if failure is not None:
            return web.json_response(
                {"code": failure.code, "message": failure.message, "more_info": "", "status": failure.status},
                status=failure.status,
            )
        return web.json_response(
            {
                "sid": sid,
                "account_sid": account_sid,
                "to": form.get("To"),
                "from": form.get("From"),
                "body": form.get("Body"),
                "status": "queued",
                "num_media": "0",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
            },
            status=201,
        )

    async def _media(self, request: web.Request) -> web.Response:
        if self.media_auth is not None and _basic_auth(request.headers.get("Authorization")) != self.media_auth:
            return web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        if request.match_info["media"] not in self.media:
            return web.json_response({"code": 20404, "message": "not found", "status": 404}, status=404)
        raise web.HTTPTemporaryRedirect(f"{self.storage_url}/storage/{request.match_info['media']}")

    async def _storage(self, request: web.Request) -> web.Response:
        with self._lock:
            self.storage_requests.append(request.headers.get("Authorization"))
            found = self.media.get(request.match_info["media"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type=found[1])

    @contextmanager
    def running(self) -> Iterator[TwilioStandIn]:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create_message)
        app.router.add_get("/2010-04-01/Accounts/{sid}/Messages/{message}/Media/{media}", self._media)
        app.router.add_get("/storage/{media}", self._storage)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        storage = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        storage.bind(("127.0.0.1", 0))
        self.storage_url = f"http://127.0.0.1:{storage.getsockname()[1]}"
        loop = asyncio.new_event_loop()
        runner = web.AppRunner(app, access_log=None)
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.SockSite(runner, sock).start())
            loop.run_until_complete(web.SockSite(runner, storage).start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        thread = threading.Thread(target=serve, name="twilio-standin", daemon=True)
        thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Twilio stand-in did not start")
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password
