"""What every page of the staff console shares: the cookies, the languages, the templates, the page and form helpers.

`Console` is built once from the services: the clock (`now`), the session of a request (`signed_in`), the
prologue of every GET page (`viewer`: signed in, else a redirect to the log-in page) and the POST of every form
(`form_action`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from actions.kit.catalog import text
from bot.channels import Channel
from bot.staff import auth
from db.models import StaffUser
from dealerbot.bootstrap import App, Services
from dealerbot.logging import get_logger

log = get_logger("bot.staff")

SESSION_COOKIE = "staff_session"
LOGIN_CSRF_COOKIE = "staff_login_csrf"
LANG_COOKIE = "staff_lang"
LANGUAGES = ("en", "ar")
MANAGERS = ("manager", "admin")  # the roles of the pages advisors do not see (outbox, reports)
TRANSCRIPT_LIMIT = 200  # the latest messages of the customer's conversation on a ticket's or hand-off's page

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
                         autoescape=select_autoescape(["html"]))


class Refused(ValueError):
    """What a form asked is not possible (the message says why, shown on the page it came from)."""


# A page a form returns to (with what was done, or the error and a status), and what a form does.
Back = Callable[..., Awaitable[Response]]
Act = Callable[[StaffUser, FormData, str], tuple[int, str]]


class Viewer(NamedTuple):
    """Who is looking at a GET page: the signed-in user, the session's CSRF token, the page's language."""

    user: StaffUser
    csrf: str
    lang: str


class Console:
    """What the pages share that needs the app: built once by bot.staff.web.routes."""

    def __init__(self, services: Services) -> None:
        self.app: App = services.app
        self.channels: dict[str, Channel] = services.channels  # for the files customers sent (pages/media.py)

    def now(self) -> datetime:
        return self.app.clock.now()

    def signed_in(self, request: Request) -> tuple[StaffUser, str] | None:
        """(the user, the session's CSRF token), in a transaction of its own (the session is marked seen)."""
        with self.app.transaction() as session:
            found = auth.current(session, request.cookies.get(SESSION_COOKIE), self.now())
            if found is None:
                return None
            user, staff_session = found
            session.expunge(user)
            return user, staff_session.csrf_token

    async def viewer(self, request: Request, roles: tuple[str, ...] | None = None,
                     role_text: str = "staff_managers_only") -> Viewer | Response:
        """A GET page's prologue: who is signed in (in a worker thread), or a redirect to the log-in page (303);
        with `roles`, another role gets the error page saying `role_text` (403)."""
        found = await anyio.to_thread.run_sync(self.signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        user, csrf = found
        lang = _language(request)
        if roles is not None and user.role not in roles:
            return _page(request, "error.html", status=403, user=user, csrf_token=csrf, error=text(role_text, lang))
        return Viewer(user, csrf, lang)

    async def form_action(self, request: Request, back: Back, act: Act, refusals: tuple[type[Exception], ...] = (),
                          refused_status: int = 400, valid: bool = True, roles: tuple[str, ...] | None = None,
                          role_text: str = "staff_managers_only") -> Response:
        """A console form's POST. Signed in (else 403); `valid` (the path names something: else 404); the role
        (else the error page, 403); the form's CSRF token (else `back` with the error, 403). Then `act(user,
        form, lang)` in a worker thread, in one transaction: (200, what was done) is shown on `back`; (403 or
        404, why) on the error page; a refusal of the domain (`refusals`: rolled back, nothing half-done) on
        `back` with its message and `refused_status`."""
        found = await anyio.to_thread.run_sync(self.signed_in, request)
        if found is None:
            return Response("not signed in", status_code=403)
        user, csrf = found
        lang = _language(request)
        if not valid:
            return Response("not found", status_code=404)
        if roles is not None and user.role not in roles:
            return _page(request, "error.html", status=403, user=user, csrf_token=csrf, error=text(role_text, lang))
        form = await request.form()
        if not auth.same_token(str(form.get("csrf_token") or ""), csrf):
            log.warning("staff_csrf_refused", staff_user_id=user.id, path=request.url.path)
            return await back(request, error=text("staff_csrf_failed", lang), status=403)
        try:
            code, said = await anyio.to_thread.run_sync(act, user, form, lang)
        except refusals as exc:
            return await back(request, error=str(exc), status=refused_status)
        if code != 200:
            return _page(request, "error.html", status=code, user=user, csrf_token=csrf, error=said)
        return await back(request, done=said or None)


def _language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGUAGES else "en"


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/staff", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def _page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = _language(request)
    html = _templates.get_template(template).render(lang=lang, t=lambda key, **kw: text(key, lang, **kw), **values)
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path="/staff", samesite="strict")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
