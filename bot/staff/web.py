"""The staff console's pages under /staff: log-in and log-out, the case queue. Server-rendered (Jinja2).

Every page but the log-in form needs a live session (else a redirect to the log-in page; a POST without one
is refused). Cookies: `staff_session` (the session's token) and `staff_login_csrf` (the log-in form's CSRF
token, double-submitted), both HttpOnly, SameSite=Strict, path /staff, Secure over HTTPS; `staff_lang` (en
or ar, chosen with ?lang=). Every form posts `csrf_token`: the session's, or on the log-in form the
cookie's; a mismatch is refused (403) and nothing is done. The interface is in English or Arabic; Arabic
pages are right-to-left.

Each page group is a module of bot/staff/pages/ (its routes and what they do); `routes` here joins them.
"""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.staff.pages import appointments, handoffs, leads, login, media, outbox, reports, tickets, users
from bot.staff.pages.common import Console
from dealerbot.bootstrap import Services


def routes(services: Services) -> list[Route]:
    """Every page's routes, then the catch-alls. No two pages' paths overlap, so their order does not matter;
    `/staff/{rest:path}` matches every path under /staff and must stay last."""
    console = Console(services)

    async def elsewhere(request: Request) -> Response:
        if await anyio.to_thread.run_sync(console.signed_in, request) is None:
            if request.method != "GET":
                return Response("not signed in", status_code=403)
            return RedirectResponse("/staff/login", status_code=303)
        return Response("not found", status_code=404)

    return [
        *login.routes(console),
        *tickets.routes(console),
        *outbox.routes(console),
        *appointments.routes(console),
        *users.routes(console),
        *reports.routes(console),
        *leads.routes(console),
        *handoffs.routes(console),
        *media.routes(console),
        Route("/staff", lambda request: RedirectResponse("/staff/", status_code=303), methods=["GET"]),
        Route("/staff/{rest:path}", elsewhere, methods=["GET", "POST"]),
    ]
