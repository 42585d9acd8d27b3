"""The staff console's pages under /staff: log-in and log-out, the case queue. Server-rendered (Jinja2).

Every page but the log-in form needs a live session (else a redirect to the log-in page; a POST without one
is refused). Cookies: `staff_session` (the session's token) and `staff_login_csrf` (the log-in form's CSRF
token, double-submitted), both HttpOnly, SameSite=Strict, path /staff, Secure over HTTPS; `staff_lang` (en
or ar, chosen with ?lang=). Every form posts `csrf_token`: the session's, or on the log-in form the
cookie's; a mismatch is refused (403) and nothing is done. The interface is in English or Arabic; Arabic
pages are right-to-left.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
from babel.dates import format_timedelta
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from actions.kit import formats
from actions.kit.catalog import text
from bot.staff import auth
from bot.staff.queue import Filters, QueueItem, queue
from db.models import COMPLAINT_STATUSES, Branch, StaffUser
from dealerbot.bootstrap import Services
from dealerbot.logging import get_logger

log = get_logger("bot.staff")

SESSION_COOKIE = "staff_session"
LOGIN_CSRF_COOKIE = "staff_login_csrf"
LANG_COOKIE = "staff_lang"
LANGUAGES = ("en", "ar")

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html"]))


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


def routes(services: Services) -> list[Route]:
    app = services.app

    def now() -> datetime:
        return app.clock.now()

    def signed_in(request: Request) -> tuple[StaffUser, str] | None:
        """(the user, the session's CSRF token), in a transaction of its own (the session is marked seen)."""
        with app.transaction() as session:
            found = auth.current(session, request.cookies.get(SESSION_COOKIE), now())
            if found is None:
                return None
            user, staff_session = found
            session.expunge(user)
            return user, staff_session.csrf_token

    async def login_form(request: Request, error: str | None = None, status: int = 200,
                         username: str | None = None) -> Response:
        token = secrets.token_urlsafe(32)
        response = _page(request, "login.html", status=status, user=None, csrf_token=token, error=error,
                         username=username)
        _cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response

    async def login_page(request: Request) -> Response:
        if await anyio.to_thread.run_sync(signed_in, request) is not None:
            return RedirectResponse("/staff/", status_code=303)
        return await login_form(request)

    async def login_post(request: Request) -> Response:
        form = await request.form()
        lang = _language(request)
        if not auth.same_token(str(form.get("csrf_token") or ""), request.cookies.get(LOGIN_CSRF_COOKIE)):
            log.warning("staff_login_csrf_refused")
            return await login_form(request, text("staff_csrf_failed", lang), status=403)
        username, password = str(form.get("username") or ""), str(form.get("password") or "")

        def attempt() -> auth.LoginResult:
            with app.transaction() as session:
                result = auth.log_in(session, username, password, now())
                if result.user is not None:
                    session.expunge(result.user)
                return result

        result = await anyio.to_thread.run_sync(attempt)  # argon2 takes tens of ms of CPU: not on the loop
        if result.token is None:
            log.info("staff_login_failed", locked=result.locked_until is not None)
            if result.locked_until is not None:
                until = formats.moment(result.locked_until, lang, app.settings.tz, now())
                return await login_form(request, text("staff_login_locked", lang, until=until), 429, username)
            return await login_form(request, text("staff_login_failed", lang), 401, username)
        assert result.user is not None
        log.info("staff_logged_in", staff_user_id=result.user.id, role=result.user.role)
        response = RedirectResponse("/staff/", status_code=303)
        _cookie(response, request, SESSION_COOKIE, result.token, max_age=int(auth.ABSOLUTE.total_seconds()))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff")
        return response

    async def logout(request: Request) -> Response:
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        form = await request.form()
        if not auth.same_token(str(form.get("csrf_token") or ""), found[1]):
            return _page(request, "login.html", status=403, user=None, csrf_token="",
                         error=text("staff_csrf_failed", _language(request)))

        def end() -> None:
            with app.transaction() as session:
                auth.log_out(session, request.cookies.get(SESSION_COOKIE))

        await anyio.to_thread.run_sync(end)
        response = RedirectResponse("/staff/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/staff")
        return response

    async def queue_page(request: Request) -> Response:
        found = await anyio.to_thread.run_sync(signed_in, request)
        if found is None:
            return RedirectResponse("/staff/login", status_code=303)
        user, csrf = found
        lang = _language(request)
        filters = Filters(branch_id=_int(request.query_params.get("branch")),
                          status=request.query_params.get("status") or None,
                          urgency=request.query_params.get("urgency") or None)
        at = now()

        def load() -> tuple[list[QueueItem], list[tuple[int, str]]]:
            with app.snapshot() as session:
                branches = [(b.id, b.name_ar if lang == "ar" else b.name_en)
                            for b in session.scalars(select(Branch).order_by(Branch.id))
                            if user.role != "advisor" or b.id == user.branch_id]
                return queue(session, user, at, filters, lang), branches

        items, branches = await anyio.to_thread.run_sync(load)

        def time_left(item: QueueItem) -> str:
            if item.due is None:
                return ""
            told = format_timedelta(abs(item.due - at), granularity="minute", threshold=1.5, locale=formats.locale(lang))
            return text("staff_overdue_by", lang, time=told) if item.breached else told

        def due(item: QueueItem) -> str:
            return formats.moment(item.due, lang, app.settings.tz, at) if item.due is not None else ""

        statuses = sorted({*COMPLAINT_STATUSES, "in_review", "approved", "in_repair"} - {"resolved", "closed"})
        return _page(request, "queue.html", user=user, csrf_token=csrf, items=items, branches=branches,
                     filters=filters, statuses=statuses, time_left=time_left, due=due)

    async def elsewhere(request: Request) -> Response:
        if await anyio.to_thread.run_sync(signed_in, request) is None:
            if request.method != "GET":
                return Response("not signed in", status_code=403)
            return RedirectResponse("/staff/login", status_code=303)
        return Response("not found", status_code=404)

    return [
        Route("/staff/login", login_page, methods=["GET"]),
        Route("/staff/login", login_post, methods=["POST"]),
        Route("/staff/logout", logout, methods=["POST"]),
        Route("/staff/", queue_page, methods=["GET"]),
        Route("/staff", lambda request: RedirectResponse("/staff/", status_code=303), methods=["GET"]),
        Route("/staff/{rest:path}", elsewhere, methods=["GET", "POST"]),
    ]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
