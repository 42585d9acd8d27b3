"""Hand-offs to a person: GET /staff/handoffs (?part=list for the live list), GET /staff/handoffs/<handoff>
(?part=transcript for the live conversation), POST /staff/handoffs/<handoff>/<action> (take, write, release).

A user sees the hand-offs they may handle (desk.may_handle); a refusal of the desk answers 409.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actions.handoff import desk
from actions.kit import formats
from actions.kit.catalog import text
from bot.staff import media
from bot.staff.pages.common import TRANSCRIPT_LIMIT, Console, _int, _page, log
from db.models import ChannelIdentity, ChatMessage, Customer, Handoff, StaffUser


def routes(console: Console) -> list[Route]:
    app, now, form_action = console.app, console.now, console.form_action

    def handoff_values(session: Any, user: StaffUser, handoff: Handoff, people: dict[int, str], lang: str) -> dict[str, Any]:
        identity = session.get(ChannelIdentity, handoff.channel_identity_id)
        customer = session.get(Customer, handoff.customer_id) if handoff.customer_id is not None else None
        channel = identity.channel if identity is not None else ""
        return {
            "id": handoff.id, "status": handoff.status,
            "state": {"open": "waiting", "claimed": "claimed"}.get(handoff.status, "released"),
            "who": customer.name if customer is not None else text("staff_unknown_customer", lang, channel=channel),
            "channel": channel, "reason": handoff.reason,
            "since": formats.moment(handoff.created_at, lang, app.settings.tz, now()),
            "taken_by": people.get(handoff.claimed_by_staff_id) if handoff.claimed_by_staff_id else None,
            "mine": handoff.claimed_by_staff_id == user.id,
        }

    def handoffs_view(user: StaffUser, lang: str) -> dict[str, Any]:
        with app.snapshot() as session:
            people = {u.id: u.display_name or u.username for u in session.scalars(select(StaffUser))}
            return {"handoffs": [handoff_values(session, user, h, people, lang) for h in desk.active(session)
                                 if desk.may_handle(session, user, h)]}

    def handoff_view(user: StaffUser, handoff_id: int, lang: str) -> tuple[int, dict[str, Any]]:
        at = now()
        with app.snapshot() as session:
            handoff = session.get(Handoff, handoff_id)
            if handoff is None:
                return 404, {"error": text("staff_not_found", lang)}
            if not desk.may_handle(session, user, handoff):
                return 403, {"error": text("staff_refused_branch", lang)}
            people = {u.id: u.display_name or u.username for u in session.scalars(select(StaffUser))}
            messages = list(session.scalars(
                select(ChatMessage).where(ChatMessage.channel_identity_id == handoff.channel_identity_id)
                .order_by(ChatMessage.created_at.desc(), ChatMessage.id.desc()).limit(TRANSCRIPT_LIMIT)))
            return 200, {
                "h": handoff_values(session, user, handoff, people, lang),
                "transcript": [{"at": formats.moment(m.created_at, lang, app.settings.tz, at), "direction": m.direction,
                                "text": m.text, "media": media.transcript_media(m, f"/staff/handoffs/{handoff.id}")}
                               for m in reversed(messages)],
            }

    async def handoffs_page(request: Request, error: str | None = None, status: int = 200) -> Response:
        viewer = await console.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        user, csrf, lang = viewer
        values = await anyio.to_thread.run_sync(handoffs_view, user, lang)
        template = "handoffs_list.html" if request.query_params.get("part") == "list" else "handoffs.html"
        return _page(request, template, status=status, user=user, csrf_token=csrf, error=error, **values)

    async def handoff_page(request: Request, done: str | None = None, error: str | None = None,
                           status: int = 200) -> Response:
        viewer = await console.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        user, csrf, lang = viewer
        handoff_id = _int(request.path_params["handoff"])
        code, values = await anyio.to_thread.run_sync(handoff_view, user, handoff_id or 0, lang)
        if code != 200:
            return _page(request, "error.html", status=code, user=user, csrf_token=csrf, **values)
        template = "transcript.html" if request.query_params.get("part") == "transcript" else "handoff.html"
        return _page(request, template, status=status, user=user, csrf_token=csrf, done=done, error=error, **values)

    async def handoff_action(request: Request) -> Response:
        action, handoff_id = request.path_params["action"], _int(request.path_params["handoff"])

        def act(user: StaffUser, form: FormData, lang: str) -> tuple[int, str]:
            with app.transaction() as session:
                handoff = session.get(Handoff, handoff_id)
                if handoff is None:
                    return 404, text("staff_not_found", lang)
                if not desk.may_handle(session, user, handoff):
                    return 403, text("staff_refused_branch", lang)
                if action == "take":
                    desk.take(session, handoff, user, now())
                elif action == "write":
                    desk.write(session, handoff, user, str(form.get("text") or ""), now())
                else:
                    desk.give_back(handoff, user, now())
                log.info("staff_handoff", staff_user_id=user.id, handoff_id=handoff.id, action=action)
                return 200, text(f"staff_done_{action}", lang)

        return await form_action(request, handoff_page, act, (desk.DeskError,), refused_status=409,
                                 valid=action in ("take", "write", "release") and handoff_id is not None)

    return [
        Route("/staff/handoffs", handoffs_page, methods=["GET"]),
        Route("/staff/handoffs/{handoff}", handoff_page, methods=["GET"]),
        Route("/staff/handoffs/{handoff}/{action}", handoff_action, methods=["POST"]),
    ]
