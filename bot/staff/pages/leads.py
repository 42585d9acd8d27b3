"""Leads: GET /staff/leads (the latest LEADS_SHOWN, ?kind= and ?status=), POST /staff/leads/<lead>/status.

An advisor sees the leads of their branch's customers (and of senders we do not know).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actions.handoff.service import customer_branch
from actions.kit import formats
from actions.kit.catalog import text
from actions.kit.vehicles import label as vehicle_label
from bot.staff.pages.common import Console, Refused, _int, _page, log
from db.models import LEAD_KINDS, Customer, Lead, StaffUser, Vehicle

LEADS_SHOWN = 300
LEAD_STATUSES = ("new", "contacted", "won", "lost", "closed")


def routes(console: Console) -> list[Route]:
    app, now, form_action = console.app, console.now, console.form_action

    def lead_visible(session: Any, user: StaffUser, lead: Lead) -> bool:
        """An advisor sees the leads of their branch's customers (and of senders we do not know)."""
        if user.role != "advisor" or lead.customer_id is None:
            return True
        branch = customer_branch(session, session.get(Customer, lead.customer_id))
        return branch is None or branch.id == user.branch_id

    def leads_view(user: StaffUser, lang: str, kind: str | None, status: str | None) -> dict[str, Any]:
        at = now()
        with app.snapshot() as session:
            query = (select(Lead, Customer.name, Vehicle).outerjoin(Customer, Lead.customer_id == Customer.id)
                     .outerjoin(Vehicle, Lead.vehicle_id == Vehicle.id).order_by(Lead.created_at.desc(), Lead.id.desc())
                     .limit(LEADS_SHOWN))
            if kind:
                query = query.where(Lead.kind == kind)
            if status:
                query = query.where(Lead.status == status)
            leads = [{
                "id": lead.id, "kind": lead.kind, "status": lead.status, "vehicle": vehicle_label(vehicle) if vehicle else None,
                "customer": name or "", "created": formats.moment(lead.created_at, lang, app.settings.tz, at),
                "details": sorted((str(k), str(v)) for k, v in (lead.details or {}).items()),
            } for lead, name, vehicle in session.execute(query) if lead_visible(session, user, lead)]
        return {"leads": leads, "kinds": LEAD_KINDS, "statuses": LEAD_STATUSES,
                "filters": {"kind": kind, "status": status}}

    async def leads_page(request: Request, done: str | None = None, error: str | None = None,
                         status: int = 200) -> Response:
        viewer = await console.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        user, csrf, lang = viewer
        values = await anyio.to_thread.run_sync(leads_view, user, lang,
                                                request.query_params.get("kind") or None,
                                                request.query_params.get("status") or None)
        return _page(request, "leads.html", status=status, user=user, csrf_token=csrf, done=done, error=error, **values)

    async def lead_status(request: Request) -> Response:
        lead_id = _int(request.path_params["lead"])

        def act(user: StaffUser, form: FormData, lang: str) -> tuple[int, str]:
            status = str(form.get("status") or "")
            with app.transaction() as session:
                lead = session.get(Lead, lead_id) if lead_id is not None else None
                if lead is None:
                    return 404, text("staff_not_found", lang)
                if not lead_visible(session, user, lead):
                    return 403, text("staff_refused_branch", lang)
                if status not in LEAD_STATUSES:
                    raise Refused(f"{status!r} is not a lead status")
                lead.status = status
                lead.assigned_staff_id = lead.assigned_staff_id or user.id
                log.info("staff_lead_status", staff_user_id=user.id, lead_id=lead.id, status=status)
                return 200, text("staff_done_lead", lang, status=status)

        return await form_action(request, leads_page, act, (Refused,))

    return [
        Route("/staff/leads", leads_page, methods=["GET"]),
        Route("/staff/leads/{lead}/status", lead_status, methods=["POST"]),
    ]
