"""Log-in and log-out: GET and POST /staff/login, POST /staff/logout.

The log-in form double-submits its own CSRF token (the `staff_login_csrf` cookie, an hour); a good password
sets the `staff_session` cookie and goes to the queue (303). Failures answer 401, a locked account 429; a
signed-in user asking for the form goes to the queue. Log-out ends the session (the form's CSRF token is the
session's) and goes back to the log-in page.
"""

from __future__ import annotations

import secrets

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from actions.kit import formats
from actions.kit.catalog import text
from bot.staff import auth
from bot.staff.pages.common import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Console, _cookie, _language, _page, log


def routes(console: Console) -> list[Route]:
    app, now, signed_in = console.app, console.now, console.signed_in

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

    return [
        Route("/staff/login", login_page, methods=["GET"]),
        Route("/staff/login", login_post, methods=["POST"]),
        Route("/staff/logout", logout, methods=["POST"]),
    ]
