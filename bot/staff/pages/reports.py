"""Reports (managers and admins): GET /staff/reports (the charts), GET /staff/reports.csv (every figure).

An advisor is refused (403).
"""

from __future__ import annotations

import csv
import io
from collections import Counter

import anyio.to_thread
from babel.numbers import format_percent
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actions.kit import formats
from bot.staff import reports
from bot.staff.pages.common import MANAGERS, Console, _page


def routes(console: Console) -> list[Route]:
    app, now = console.app, console.now

    def reports_of() -> reports.Reports:
        with app.snapshot() as session:
            return reports.build(session, now(), app.settings.tz)

    async def reports_page(request: Request) -> Response:
        viewer = await console.viewer(request, roles=MANAGERS)
        if isinstance(viewer, Response):
            return viewer
        user, csrf, lang = viewer
        r = await anyio.to_thread.run_sync(reports_of)
        totals = Counter[str]()
        for counts in r.complaints.values():
            totals.update(counts)
        month_totals = [(m, float(sum(r.complaints.get(m, Counter()).values()))) for m in r.months]
        number = lambda value: formats.number(round(value, 1), lang) if value is not None else ""  # noqa: E731
        share = format_percent(r.reminders_booked / r.reminders_sent, locale=formats.locale(lang)) if r.reminders_sent else ""
        return _page(
            request, "reports.html", user=user, csrf_token=csrf, r=r,
            by_category=reports.bars(sorted(totals.items(), key=lambda kv: -kv[1])) if totals else "",
            by_month=reports.bars(month_totals) if any(v for _, v in month_totals) else "",
            answer_chart=reports.bars([("median", r.first_answer_hours or 0), ("allowed", r.allowed_hours or 0)], unit=" h"),
            took=number(r.first_answer_hours), allowed=number(r.allowed_hours), share=share,
            csat=reports.bars([(m, round(avg, 2)) for m, (avg, _n) in r.csat.items()]) if r.csat else "",
        )

    async def reports_csv(request: Request) -> Response:
        viewer = await console.viewer(request, roles=MANAGERS)
        if isinstance(viewer, Response):
            return viewer
        r = await anyio.to_thread.run_sync(reports_of)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["report", "month", "key", "value"])
        writer.writerows(r.rows())
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="dealerbot-reports.csv"',
                                 "Cache-Control": "no-store"})

    return [
        Route("/staff/reports", reports_page, methods=["GET"]),
        Route("/staff/reports.csv", reports_csv, methods=["GET"]),
    ]
