"""Files customers sent, fetched through their channel (bot.staff.media): GET
/staff/tickets/<ticket>/photos/<n> (a case's photos), /staff/tickets/<ticket>/messages/<id>/media/<n> and
/staff/handoffs/<handoff>/messages/<id>/media/<n> (a file in the conversation that page shows). The same
rules as the page: no session → the log-in page; another branch's → 403; nothing there → 404; the platform
would not give it → 502 with the reason.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio.to_thread
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actions.kit.catalog import text
from bot.channels import MediaUnavailable
from bot.staff import media
from bot.staff.pages.common import Console, _page, log
from db.models import StaffUser

Locate = Callable[[Session, StaffUser], media.Found]


def routes(console: Console) -> list[Route]:
    app = console.app

    async def serve(request: Request, locate: Locate, name: str) -> Response:
        viewer = await console.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        user, csrf, lang = viewer

        def find() -> media.Found:
            with app.snapshot() as session:
                return locate(session, user)

        found = await anyio.to_thread.run_sync(find)
        if found.url is None:
            return _page(request, "error.html", status=found.status, user=user, csrf_token=csrf,
                         error=text(found.error_key or "staff_media_not_found", lang))
        try:
            data, content_type = await media.fetch(console.channels.values(), found.url)
        except MediaUnavailable as exc:
            return _page(request, "error.html", status=502, user=user, csrf_token=csrf,
                         error=text("staff_media_unavailable", lang, reason=str(exc)))
        log.info("staff_media_served", staff_user_id=user.id, path=request.url.path, size=len(data))
        return media.serve(data, content_type, name)

    async def case_photo(request: Request) -> Response:
        ticket, index = request.path_params["ticket"], request.path_params["index"]
        return await serve(request, lambda session, user: media.case_photo(session, user, ticket, index),
                           f"{ticket}-photo-{index + 1}")

    async def case_message_media(request: Request) -> Response:
        ticket, message, index = (request.path_params[k] for k in ("ticket", "message", "index"))
        return await serve(request, lambda s, u: media.case_message_media(s, u, ticket, message, index),
                           f"{ticket}-message-{message}-{index + 1}")

    async def handoff_message_media(request: Request) -> Response:
        handoff, message, index = (request.path_params[k] for k in ("handoff", "message", "index"))
        return await serve(request, lambda s, u: media.handoff_message_media(s, u, handoff, message, index),
                           f"handoff-{handoff}-message-{message}-{index + 1}")

    return [
        Route("/staff/tickets/{ticket}/photos/{index:int}", case_photo, methods=["GET"]),
        Route("/staff/tickets/{ticket}/messages/{message:int}/media/{index:int}", case_message_media, methods=["GET"]),
        Route("/staff/handoffs/{handoff:int}/messages/{message:int}/media/{index:int}", handoff_message_media,
              methods=["GET"]),
    ]
