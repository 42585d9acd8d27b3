"""The day's visits of a branch: GET /staff/appointments (?branch=, ?day=; ?part=table for the live table),
POST /staff/appointments/<appointment>/<action> (arrived, completed, work: an item of work with its price).

An advisor sees and marks only their branch's visits.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actions.appointments import service as appointments
from actions.appointments import work
from actions.kit import formats
from actions.kit.catalog import text
from actions.kit.vehicles import label as vehicle_label
from bot.staff.pages.common import Console, _day, _int, _page, log
from db.models import Appointment, Bay, Branch, Customer, ServiceType, StaffUser, Vehicle


def routes(console: Console) -> list[Route]:
    app, now, form_action = console.app, console.now, console.form_action

    def appointments_view(user: StaffUser, lang: str, branch_id: int | None, day: date) -> dict[str, Any]:
        tz = app.settings.tz
        start = datetime.combine(day, time.min, tzinfo=tz)
        with app.snapshot() as session:
            branches = [(b.id, b.name_ar if lang == "ar" else b.name_en)
                        for b in session.scalars(select(Branch).order_by(Branch.id))
                        if user.role != "advisor" or b.id == user.branch_id]
            allowed = {b for b, _ in branches}
            if branch_id not in allowed:
                branch_id = user.branch_id if user.branch_id in allowed else (branches[0][0] if branches else None)
            rows = session.execute(
                select(Appointment, Customer.name, Vehicle, ServiceType, Bay.name)
                .join(Customer, Appointment.customer_id == Customer.id)
                .join(Vehicle, Appointment.vehicle_id == Vehicle.id)
                .join(ServiceType, Appointment.service_type_id == ServiceType.id)
                .outerjoin(Bay, Appointment.bay_id == Bay.id)
                .where(Appointment.branch_id == branch_id, Appointment.starts_at >= start,
                       Appointment.starts_at < start + timedelta(days=1))
                .order_by(Appointment.starts_at, Appointment.id)
            ).all()
            visits: list[dict[str, Any]] = [{
                "id": a.id, "reference": a.reference, "time": formats.clock(a.starts_at.astimezone(tz)),
                "customer": name, "vehicle": vehicle_label(vehicle),
                "service": service.name_ar if lang == "ar" else service.name_en, "bay": bay, "status": a.status,
                "arrived": formats.clock(a.arrived_at.astimezone(tz)) if a.arrived_at else None,
                "options": [o for o, on in (("courtesy_car", a.courtesy_car), ("pickup", a.pickup_dropoff),
                                            ("mobile", a.mobile_service), ("express", a.express_lane)) if on],
            } for a, name, vehicle, service, bay in rows]
            found: dict[int, list[dict[str, Any]]] = {}
            for item in work.items(session, [v["id"] for v in visits]):
                found.setdefault(item.appointment_id, []).append(
                    {"id": item.id, "description": item.description, "status": item.status,
                     "price": f"{formats.money(item.price_aed, lang)} {text('staff_currency', lang)}"})
            for visit in visits:
                visit["work"] = found.get(visit["id"], [])
        return {"branches": branches, "branch_id": branch_id, "visits": visits, "day": day.isoformat(),
                "day_label": formats.day(day, lang)}

    async def appointments_page(request: Request, done: str | None = None, error: str | None = None,
                                status: int = 200) -> Response:
        viewer = await console.viewer(request)
        if isinstance(viewer, Response):
            return viewer
        user, csrf, lang = viewer
        day = _day(request.query_params.get("day")) or now().astimezone(app.settings.tz).date()
        values = await anyio.to_thread.run_sync(appointments_view, user, lang,
                                                _int(request.query_params.get("branch")), day)
        template = "appointments_table.html" if request.query_params.get("part") == "table" else "appointments.html"
        return _page(request, template, status=status, user=user, csrf_token=csrf, done=done, error=error, **values)

    async def appointment_action(request: Request) -> Response:
        action, appointment_id = request.path_params["action"], _int(request.path_params["appointment"])

        def act(user: StaffUser, form: FormData, lang: str) -> tuple[int, str]:
            with app.transaction() as session:
                appointment = session.get(Appointment, appointment_id)
                if appointment is None:
                    return 404, text("staff_not_found", lang)
                if user.role == "advisor" and appointment.branch_id != user.branch_id:
                    return 403, text("staff_refused_branch", lang)
                if action == "work":
                    price = work.price_of(str(form.get("price") or ""))
                    work.add_item(session, appointment, str(form.get("description") or ""), price, user.id, now())
                elif action == "arrived":
                    appointments.mark_arrived(appointment, now())
                else:
                    appointments.mark_completed(appointment, now())
                log.info("staff_visit_marked", staff_user_id=user.id, appointment_id=appointment.id, action=action)
                return 200, text(f"staff_done_{action}", lang, reference=appointment.reference)

        return await form_action(request, appointments_page, act, (appointments.VisitError, work.WorkError),
                                 valid=action in ("arrived", "completed", "work") and appointment_id is not None)

    return [
        Route("/staff/appointments", appointments_page, methods=["GET"]),
        Route("/staff/appointments/{appointment}/{action}", appointment_action, methods=["POST"]),
    ]
