"""The ASGI app of `dealerbot serve` (Starlette under uvicorn): the channels' webhooks, health, metrics.

`POST /telegram/webhook`, `POST /twilio/whatsapp`, `POST /twilio/status`, `GET /healthz`, `GET /metrics`,
and the staff console under `/staff` (bot/staff/web.py).
A platform whose credentials are not set answers 404 on its endpoints. The lifespan starts each channel
(Telegram: setWebhook or long polling; a platform unreachable at start is retried in the background and
never stops the app or the other channel) and stops them at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from sqlalchemy import text as sql
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.staff.web import routes as staff_routes
from dealerbot.bootstrap import Services
from dealerbot.logging import get_logger

log = get_logger("bot.web")

MAX_BODY_BYTES = 1024 * 1024


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, or 413 when it is larger than `limit` (checked while reading, whatever the
    Content-Length says)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise HTTPException(413, "request body too large")
        except ValueError:
            raise HTTPException(400, "bad content-length") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, "request body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(services: Services, scheduler: bool = False) -> Starlette:
    """The ASGI app; with `scheduler`, its lifespan also runs the scheduler and the outbox dispatcher
    (scheduler.service), as `dealerbot serve` does unless --no-scheduler."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        for channel in services.channels.values():
            await channel.start()  # never raises: a platform that is down is retried in the background
        jobs = None
        if scheduler:
            from scheduler.service import SchedulerService

            jobs = SchedulerService(services.app, services.channels)
            await jobs.start()
        log.info("app_started", channels=sorted(services.channels), scheduler=scheduler)
        try:
            yield
        finally:
            if jobs is not None:
                await jobs.stop()
            await services.aclose()
            log.info("app_stopped")

    def channel_endpoint(channel_name: str, method: str):  # type: ignore[no-untyped-def]
        async def endpoint(request: Request) -> Response:
            channel = services.channels.get(channel_name)
            if channel is None:
                return PlainTextResponse("channel not configured", status_code=404)
            return await getattr(channel, method)(request)

        return endpoint

    async def healthz(_request: Request) -> Response:
        database = await anyio.to_thread.run_sync(_database_ok, services)
        nlu = await services.nlu.ready()
        body = {
            "status": "ok" if database and nlu and all(
                c.health.state == "ok" for c in services.channels.values()) else "degraded",
            "database": "ok" if database else "down",
            "nlu": "ok" if nlu else "down",
            "channels": {name: c.health.as_dict() for name, c in services.channels.items()},
        }
        return JSONResponse(body, status_code=200 if database else 503)

    async def metrics(_request: Request) -> Response:
        return Response(services.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return PlainTextResponse(exc.detail or "", status_code=exc.status_code)

    async def server_error(_request: Request, exc: Exception) -> Response:
        services.metrics.errors.labels("http").inc()
        log.error("request_failed", error=exc.__class__.__name__)
        return PlainTextResponse("internal error", status_code=500)

    routes = [
        Route("/telegram/webhook", channel_endpoint("telegram", "handle_webhook"), methods=["POST"]),
        Route("/twilio/whatsapp", channel_endpoint("whatsapp", "handle_webhook"), methods=["POST"]),
        Route("/twilio/status", channel_endpoint("whatsapp", "handle_status"), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *staff_routes(services),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, 500: server_error},
    )


def _database_ok(services: Services) -> bool:
    try:
        with services.app.engine.connect() as connection:
            connection.execute(sql("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means the database does not answer
        return False
    return True
