"""The outbox: GET /staff/outbox (managers and admins), POST /staff/outbox/<row>/retry.

The page counts the outbox's rows by kind, channel and status and lists the latest dead letters
(DEAD_LETTERS_SHOWN); retrying one queues it again. An advisor is refused (403).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from sqlalchemy import func, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actions.kit import formats
from actions.kit.catalog import text
from bot.staff.pages.common import MANAGERS, Console, _int, _page, log
from db.models import OUTBOX_STATUSES, Customer, OutboxMessage, StaffUser
from scheduler.dispatch import retry_dead

DEAD_LETTERS_SHOWN = 100


def routes(console: Console) -> list[Route]:
    app, now, form_action = console.app, console.now, console.form_action

    def outbox_view(lang: str) -> dict[str, Any]:
        at = now()
        with app.snapshot() as session:
            counts: dict[tuple[str, str], dict[str, int]] = {}
            for kind, channel, status, count in session.execute(
                select(OutboxMessage.kind, OutboxMessage.channel, OutboxMessage.status, func.count())
                .group_by(OutboxMessage.kind, OutboxMessage.channel, OutboxMessage.status)
            ):
                counts.setdefault((kind, channel), {})[status] = count
            dead = [
                {"id": row.id, "kind": row.kind, "channel": row.channel, "customer": name, "attempts": row.attempts,
                 "error": row.last_error, "created": formats.moment(row.created_at, lang, app.settings.tz, at)}
                for row, name in session.execute(
                    select(OutboxMessage, Customer.name).outerjoin(Customer, OutboxMessage.customer_id == Customer.id)
                    .where(OutboxMessage.status == "dead").order_by(OutboxMessage.id.desc()).limit(DEAD_LETTERS_SHOWN))
            ]
        return {"counts": sorted(counts.items()), "statuses": OUTBOX_STATUSES, "dead": dead}

    async def outbox_page(request: Request, done: str | None = None, error: str | None = None,
                          status: int = 200) -> Response:
        viewer = await console.viewer(request, roles=MANAGERS)
        if isinstance(viewer, Response):
            return viewer
        user, csrf, lang = viewer
        values = await anyio.to_thread.run_sync(outbox_view, lang)
        return _page(request, "outbox.html", status=status, user=user, csrf_token=csrf, done=done, error=error,
                     **values)

    async def outbox_retry(request: Request) -> Response:
        row_id = _int(request.path_params["row"])

        def act(user: StaffUser, form: FormData, lang: str) -> tuple[int, str]:
            with app.transaction() as session:
                requeued = retry_dead(session, now(), [row_id] if row_id is not None else [])
            log.info("staff_outbox_retry", staff_user_id=user.id, row_id=row_id, requeued=requeued)
            return 200, text("staff_done_retry", lang) if requeued else ""

        return await form_action(request, outbox_page, act, roles=MANAGERS)

    return [
        Route("/staff/outbox", outbox_page, methods=["GET"]),
        Route("/staff/outbox/{row}/retry", outbox_retry, methods=["POST"]),
    ]
