"""Staff users (admins only): GET /staff/users, POST /staff/users/add, POST /staff/users/<id>/<action>
(activate, deactivate; not one's own account).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actions.kit import formats
from actions.kit.catalog import text
from bot.staff import auth
from bot.staff.pages.common import Console, _int, _page, log
from db.models import Branch, StaffUser


def routes(console: Console) -> list[Route]:
    app, now, form_action = console.app, console.now, console.form_action

    def users_view(lang: str) -> dict[str, Any]:
        at = now()
        with app.snapshot() as session:
            branches = {b.id: (b.code, b.name_ar if lang == "ar" else b.name_en)
                        for b in session.scalars(select(Branch).order_by(Branch.id))}
            users = [{"id": u.id, "username": u.username, "name": u.display_name, "role": u.role, "active": u.active,
                      "branch": branches[u.branch_id][1] if u.branch_id in branches else None,
                      "last_login": formats.moment(u.last_login_at, lang, app.settings.tz, at) if u.last_login_at else None}
                     for u in session.scalars(select(StaffUser).order_by(StaffUser.username))]
        return {"users": users, "branches": list(branches.values())}

    async def users_page(request: Request, done: str | None = None, error: str | None = None,
                         status: int = 200) -> Response:
        viewer = await console.viewer(request, roles=("admin",), role_text="staff_admins_only")
        if isinstance(viewer, Response):
            return viewer
        user, csrf, lang = viewer
        values = await anyio.to_thread.run_sync(users_view, lang)
        return _page(request, "users.html", status=status, user=user, csrf_token=csrf, done=done, error=error, **values)

    async def users_action(request: Request) -> Response:
        target, action = request.path_params.get("target"), request.path_params["action"]

        def act(user: StaffUser, form: FormData, lang: str) -> tuple[int, str]:
            with app.transaction() as session:
                if action == "add":
                    made = auth.add_staff(session, str(form.get("username") or ""), str(form.get("role") or ""),
                                          str(form.get("password") or ""), now(), str(form.get("branch") or "") or None,
                                          str(form.get("name") or "") or None)
                    log.info("staff_user_added", by=user.id, staff_user_id=made.id, role=made.role)
                    return 200, text("staff_done_user_added", lang, username=made.username)
                other = session.get(StaffUser, _int(target)) if target else None
                if other is None or action not in ("activate", "deactivate") or other.id == user.id:
                    raise auth.StaffError(text("staff_not_found", lang))
                auth.set_active(session, other, action == "activate")
                log.info("staff_user_active", by=user.id, staff_user_id=other.id, active=other.active)
                return 200, text("staff_done_user_active" if other.active else "staff_done_user_inactive", lang,
                                 username=other.username)

        return await form_action(request, users_page, act, (auth.StaffError,), roles=("admin",),
                                 role_text="staff_admins_only")

    return [
        Route("/staff/users", users_page, methods=["GET"]),
        Route("/staff/users/{action:str}", users_action, methods=["POST"]),
        Route("/staff/users/{target:int}/{action:str}", users_action, methods=["POST"]),
    ]
