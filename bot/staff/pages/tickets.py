"""The case queue and a ticket: GET /staff/, GET /staff/tickets/<ticket>, POST /staff/tickets/<ticket>/<action>.

The queue (bot.staff.queue) lists the open cases the user may see, by next deadline, filtered by ?branch=,
?status= and ?urgency=. A ticket's page shows the case, its deadlines, notes and the customer's conversation
(the latest TRANSCRIPT_LIMIT messages) with the files sent (pages/media.py); its forms set the status, assign, add a note or answer the customer
(ACTIONS). Another branch's ticket is refused (403), an unknown one is not found (404).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from babel.dates import format_timedelta
from sqlalchemy import false, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actions.complaints import casework
from actions.complaints.service import next_deadline
from actions.kit import formats
from actions.kit.catalog import text
from actions.kit.vehicles import label as vehicle_label
from bot.staff import media
from bot.staff.pages.common import TRANSCRIPT_LIMIT, Console, _int, _page, log
from bot.staff.queue import Filters, QueueItem, case_branch, may_see, queue
from db.models import COMPLAINT_STATUSES, Branch, ChannelIdentity, ChatMessage, Complaint, Customer, StaffUser, Vehicle

ACTIONS = ("status", "assign", "note", "answer")  # POST /staff/tickets/<ticket>/<action>


def routes(console: Console) -> list[Route]:
    app, now, form_action = console.app, console.now, console.form_action

    async def queue_page(request: Request) -> Response:
        viewer = await console.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        user, csrf, lang = viewer
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

    def ticket_view(user: StaffUser, ticket: str, lang: str) -> tuple[int, dict[str, Any]]:
        """(status, the page's values): 404 for no such ticket, 403 for another branch's."""
        at = now()
        tz = app.settings.tz
        with app.snapshot() as session:
            case = casework.find_case(session, ticket)
            if case is None:
                return 404, {"error": text("staff_not_found", lang)}
            if not may_see(session, user, case):
                return 403, {"error": text("staff_refused_branch", lang)}
            customer = session.get(Customer, case.customer_id)
            vehicle = session.get(Vehicle, case.vehicle_id) if case.vehicle_id is not None else None
            branch_id = case_branch(session, case)
            branch = session.get(Branch, branch_id) if branch_id is not None else None
            people = {u.id: u.display_name or u.username for u in session.scalars(select(StaffUser))}
            staff = sorted((i, n) for i, n in people.items())
            what, due = next_deadline(case)
            moment = lambda value: formats.moment(value, lang, tz, at) if value is not None else None  # noqa: E731
            deadlines = ([("acknowledge", moment(case.acknowledge_by), moment(case.acknowledged_at))]
                         if isinstance(case, Complaint) else [])
            deadlines.append(("answer", moment(case.respond_by), moment(case.responded_at)))
            if isinstance(case, Complaint):
                deadlines.append(("resolve", moment(case.resolve_by), moment(case.resolved_at)))
            identities = {i.id: i.channel for i in session.scalars(
                select(ChannelIdentity).where(ChannelIdentity.customer_id == case.customer_id))}
            messages = list(session.scalars(
                select(ChatMessage).where(ChatMessage.channel_identity_id.in_(identities) if identities else false())
                .order_by(ChatMessage.created_at.desc(), ChatMessage.id.desc()).limit(TRANSCRIPT_LIMIT)))
            values = {
                "case": case, "customer": customer, "subject": case.category if isinstance(case, Complaint) else case.component,
                "vehicle": vehicle_label(vehicle) if vehicle is not None else None,
                "branch": (branch.name_ar if lang == "ar" else branch.name_en) if branch is not None else None,
                "assigned": people.get(case.assigned_staff_id) if case.assigned_staff_id else None,
                "statuses": casework.statuses(case), "staff": staff, "deadlines": deadlines,
                "next_due": f"{text('staff_deadline_' + what, lang)} {moment(due)}" if what and due else None,
                "breached": due is not None and due < at,
                "photos": [media.link(url, f"/staff/tickets/{case.ticket_id}/photos/{index}", index + 1)
                           for index, url in enumerate(case.photos or [])],
                "notes": [{"at": moment(n.created_at), "author": people.get(n.staff_user_id or 0, ""), "body": n.body,
                           "visible_to_customer": n.visible_to_customer} for n in casework.notes(session, case)],
                "transcript": [{"at": moment(m.created_at), "channel": identities.get(m.channel_identity_id, ""),
                                "direction": m.direction, "text": m.text,
                                "media": media.transcript_media(m, f"/staff/tickets/{case.ticket_id}")}
                               for m in reversed(messages)],
            }
            session.expunge_all()
            return 200, values

    async def ticket_page(request: Request, done: str | None = None, error: str | None = None,
                          status: int = 200) -> Response:
        viewer = await console.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        user, csrf, lang = viewer
        code, values = await anyio.to_thread.run_sync(ticket_view, user, request.path_params["ticket"], lang)
        if code != 200:
            return _page(request, "error.html", status=code, user=user, csrf_token=csrf, **values)
        return _page(request, "ticket.html", status=status, user=user, csrf_token=csrf, done=done, error=error,
                     **values)

    async def ticket_action(request: Request) -> Response:
        ticket, action = request.path_params["ticket"], request.path_params["action"]

        def act(user: StaffUser, form: FormData, lang: str) -> tuple[int, str]:
            with app.transaction() as session:
                case = casework.find_case(session, ticket)
                if case is None:
                    return 404, text("staff_not_found", lang)
                if not may_see(session, user, case):
                    return 403, text("staff_refused_branch", lang)
                at = now()
                if action == "status":
                    casework.set_status(case, str(form.get("status") or ""), at)
                    done = text("staff_done_status", lang, status=case.status)
                elif action == "assign":
                    casework.assign(session, case, _int(str(form.get("staff_user_id") or "")))
                    done = text("staff_done_assign", lang)
                elif action == "note":
                    casework.add_note(session, case, str(form.get("body") or ""), user.id, at)
                    done = text("staff_done_note", lang)
                else:  # "answer"
                    casework.answer(session, case, str(form.get("body") or ""), user.id, at)
                    done = text("staff_done_answer", lang)
                log.info("staff_case_changed", staff_user_id=user.id, ticket=case.ticket_id, action=action)
                return 200, done

        return await form_action(request, ticket_page, act, (casework.CaseworkError,), valid=action in ACTIONS)

    return [
        Route("/staff/", queue_page, methods=["GET"]),
        Route("/staff/tickets/{ticket}", ticket_page, methods=["GET"]),
        Route("/staff/tickets/{ticket}/{action:str}", ticket_action, methods=["POST"]),
    ]
