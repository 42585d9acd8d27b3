"""A local stand-in for the Telegram Bot API: a real HTTP server on 127.0.0.1 (aiohttp, in the test's
event loop) that serves `/bot<token>/<method>`, records every call, hands out queued updates through
getUpdates (long poll, honouring the offset), and fails on demand (HTTP 500, 429 with retry_after, 403
blocked, or not listening at all)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Parameters python-telegram-bot sends JSON-encoded in its form bodies.
_JSON_PARAMS = {"reply_markup", "allowed_updates", "commands", "chat_id", "message_id", "offset", "timeout",
                "latitude", "longitude", "limit"}
_TRUE_METHODS = {"answerCallbackQuery", "setWebhook", "deleteWebhook", "setMyCommands", "sendChatAction"}
_MESSAGE_METHODS = {"sendMessage", "sendLocation", "editMessageText", "editMessageReplyMarkup"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when the stand-in received it
    failed: bool = False
    result: Any = None  # what the stand-in answered (a Message for sendMessage)


@dataclass
class Failure:
    kind: str  # "500" | "429" | "403"
    times: int
    retry_after: int = 1


@dataclass
class BotApiStandin:
    token: str
    port: int = field(default_factory=free_port)
    calls: list[Call] = field(default_factory=list)
    max_poll_wait: float = 1.0
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _failures: dict[str, list[Failure]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _site: web.TCPSite | None = None
    _changed: asyncio.Condition | None = None
    _next_message_id: int = 1000
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # file_id -> (file_path, bytes)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- running -----------------------------------------------------------------------------------------
    async def start(self, listening: bool = True) -> None:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        if listening:
            await self.listen()

    async def listen(self) -> None:
        """Start answering on the port (a stand-in started with listening=False is "unreachable")."""
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()

    async def close(self) -> None:
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what tests set up -------------------------------------------------------------------------------
    async def queue_update(self, update: dict[str, Any]) -> None:
        """An update for getUpdates (polling mode)."""
        assert self._changed is not None
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()

    def add_file(self, file_id: str, file_path: str, data: bytes) -> None:
        """A file a user sent: getFile answers its path, and /file/bot<token>/<path> serves the bytes."""
        self.files[file_id] = (file_path, data)

    def fail(self, method: str, kind: str, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls of `method` fail: "500", "429" (with retry_after) or "403" (blocked)."""
        self._failures.setdefault(method, []).append(Failure(kind, times, retry_after))

    # --- what tests read ---------------------------------------------------------------------------------
    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and not c.failed]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """The parameters of every sendMessage that succeeded (to one chat if given)."""
        return [c.params for c in self.called("sendMessage") if chat_id is None or c.params.get("chat_id") == chat_id]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [p["text"] for p in self.sent(chat_id)]

    # --- the API -----------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = _params(await request.post()) if request.body_exists else {}
        call = Call(method, params, time.monotonic())
        self.calls.append(call)
        failure = self._take_failure(method)
        if failure is not None:
            call.failed = True
            if failure.kind == "429":
                return _error(429, f"Too Many Requests: retry after {failure.retry_after}",
                              {"retry_after": failure.retry_after})
            if failure.kind == "403":
                return _error(403, "Forbidden: bot was blocked by the user")
            return _error(500, "Internal Server Error")
        if method == "getMe":
            return _ok({"id": 123, "is_bot": True, "first_name": "Dealerbot", "username": "dealerbot_test_bot"})
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        if method in _TRUE_METHODS:
            return _ok(True)
        if method == "getFile":
            found = self.files.get(str(params.get("file_id")))
            if found is None:
                return _error(400, "Bad Request: invalid file_id")
            return _ok({"file_id": params["file_id"], "file_unique_id": "u" + str(params["file_id"]),
                        "file_size": len(found[1]), "file_path": found[0]})
        if method in _MESSAGE_METHODS:
            call.result = self._message(method, params)
            return _ok(call.result)
        return _error(404, "Not Found: method not found")

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        for file_path, data in self.files.values():
            if file_path == request.match_info["path"]:
                self.calls.append(Call("download", {"path": file_path}, time.monotonic()))
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)

    def _take_failure(self, method: str) -> Failure | None:
        pending = self._failures.get(method) or []
        if not pending:
            return None
        failure = pending[0]
        failure.times -= 1
        if failure.times <= 0:
            pending.pop(0)
        return failure

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        assert self._changed is not None
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        async with self._changed:
            # Telegram forgets the updates an offset confirms.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and wait > 0:
                try:
                    await asyncio.wait_for(self._changed.wait(), wait)
                except TimeoutError:
                    pass
            return [u for u in self._updates if u["update_id"] >= offset]

    def _message(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method.startswith("edit"):
            message_id = params["message_id"]
        else:
            self._next_message_id += 1
            message_id = self._next_message_id
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": params["chat_id"], "type": "private"},
        }
        if "text" in params:
            message["text"] = params["text"]
        if method == "sendLocation":
            message["location"] = {"latitude": params["latitude"], "longitude": params["longitude"]}
        if isinstance(params.get("reply_markup"), dict) and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]
        return message


def _params(form: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in form.items():
        if key in _JSON_PARAMS and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        params[key] = value
    return params


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)
