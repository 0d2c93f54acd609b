"""The statistics page (后台数据匹配分析) and its data, for supervisors and admins.

`GET /stats` the page (filters, tables, SVG charts); `GET /api/stats` the same
report as JSON; `GET /api/stats/export?table=<name>&format=csv|xlsx` one table
as a download. All take the filter `from`, `to` (YYYY-MM-DD, received dates,
both included; default the last 30 days), `place`, `department`, `item`,
`mode`. Bad input: 400 `{"error": "bad_case", "field": ...}`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from aiohttp import web

from server import appkeys as K
from server.auth import allow
from server.catalogue import MODES
from server.pages import _lang, render
from server.register.case_types import CaseError
from server.register.statistics import StatsFilter, StatsQueries, default_period
from server.stats_svg import hours_chart, outcome_chart, township_chart
from server.stats_tables import Table, tables, to_csv, to_xlsx

routes = web.RouteTableDef()
ROLES = ("supervisor", "sysadmin")
FORMATS = {
    "csv": ("text/csv", to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx),
}


def _date(raw: str | None, key: str, default: date) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise CaseError(key, "invalid", "a date like 2026-10-01") from None


def stats_filter(request: web.Request) -> StatsFilter:
    q = request.query
    first, last = default_period(request.app[K.CASES].today())
    return StatsFilter(
        date_from=_date(q.get("from"), "from", first),
        date_to=_date(q.get("to"), "to", last),
        place=q.get("place") or None,
        department=q.get("department") or None,
        item=q.get("item") or None,
        mode=q.get("mode") or None,
    ).check(request.app[K.CATALOGUE])


async def build_report(request: web.Request, flt: StatsFilter) -> dict[str, Any]:
    service = request.app[K.CASES]
    queries = StatsQueries(service.register, request.app[K.CATALOGUE])
    started = time.perf_counter()
    report = await asyncio.to_thread(queries.report, flt, service.today())
    report["took_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return report


def _guarded(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except CaseError as exc:
            return web.json_response(exc.to_json(), status=exc.status)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def _no_store(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/api/stats")
@allow(*ROLES)
@_guarded
async def stats_json(request: web.Request) -> web.StreamResponse:
    report = await build_report(request, stats_filter(request))
    return _no_store(web.json_response(report))


@routes.get("/api/stats/export")
@allow(*ROLES)
@_guarded
async def stats_export(request: web.Request) -> web.StreamResponse:
    """One table as CSV (UTF-8 with BOM) or XLSX."""
    fmt = request.query.get("format", "csv")
    if fmt not in FORMATS:
        raise CaseError("format", "invalid", f"expected one of {', '.join(FORMATS)}")
    name = request.query.get("table", "")
    flt = stats_filter(request)
    lang = _lang(request)
    report = await build_report(request, flt)
    found = tables(report, request.app[K.CATALOGUE])
    if name not in found:
        raise CaseError("table", "unknown", f"expected one of {', '.join(found)}")
    ctype, encode = FORMATS[fmt]
    filename = f"stats-{name}-{flt.date_from}-{flt.date_to}.{fmt}"
    body = await asyncio.to_thread(encode, found[name], lang)
    response = web.Response(body=body, content_type=ctype)
    if fmt == "csv":
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _no_store(response)


def export_links(request: web.Request, flt: StatsFilter) -> dict[str, str]:
    """The query string of the current filter, for the download links."""
    values = {k: v for k, v in flt.to_json().items() if v}
    return {k: str(v) for k, v in values.items()}


@routes.get("/stats")
@allow(*ROLES)
async def stats_page(request: web.Request) -> web.Response:
    catalogue = request.app[K.CATALOGUE]
    try:
        flt = stats_filter(request)
    except CaseError as exc:
        first, last = default_period(request.app[K.CASES].today())
        return render(
            request,
            "stats.html",
            status=400,
            error=exc.to_json(),
            report=None,
            flt=StatsFilter(first, last),
            catalogue=catalogue,
            **_choices(catalogue),
        )
    report = await build_report(request, flt)
    built: dict[str, Table] = tables(report, catalogue)
    charts = {
        "hours": hours_chart(report["hours"]),
        "outcomes": outcome_chart(report["summary"]),
        "township": township_chart(report["items"], catalogue),
    }
    return render(
        request,
        "stats.html",
        error=None,
        report=report,
        flt=flt,
        tables=built,
        charts=charts,
        query=export_links(request, flt),
        catalogue=catalogue,
        **_choices(catalogue),
    )


def _choices(catalogue: Any) -> dict[str, Any]:
    departments = sorted({i.department.zh: i.department for i in catalogue.items.values()}.items())
    return {"departments": [d for _, d in departments], "modes": MODES}
