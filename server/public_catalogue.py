"""The public service catalogue (事项清单公开): no sign-in.

`GET /catalogue` (a page) and `GET /api/public/catalogue` (JSON) list every
service item: where it can be handed in (township, county, city), how
(modes), the materials, the time limit and the deciding department; and the
service centres with their hours. Only what the catalogue publishes: no
accounts, devices, queues or ticket letters.

Where an item can be handed in follows from its modes and level: at township
centres and village points when a remote mode serves it (remote window,
receive and forward, assisted filing); at the county hall when the county
decides it or a remote mode carries it up; at the city hall when the city
decides it. Site inspection (云踏勘) is a way of checking, not of handing in.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server import appkeys as K
from server.auth import PUBLIC, allow
from server.catalogue import MODES, Catalogue, Names, ServiceItem
from server.pages import render
from server.service_hours import ServiceHours

routes = web.RouteTableDef()
PLACE_LEVELS = {
    "city_hall": "city",
    "county_hall": "county",
    "township_centre": "township",
    "village_point": "township",
}
LEVEL_NAMES = {
    "township": Names("乡镇（村）便民服务点", "Township and village service points"),
    "county": Names("县级政务服务中心", "County government service centre"),
    "city": Names("市级政务服务中心", "City government service centre"),
}
REMOTE_MODES = frozenset({"video", "forward", "assisted"})


def where_handled(item: ServiceItem) -> list[str]:
    """The place levels where an applicant can hand the item in, lowest first."""
    remote = bool(REMOTE_MODES & set(item.modes))
    where = []
    if remote:
        where.append("township")
    if item.level == "county" or remote:
        where.append("county")
    if item.level == "city":
        where.append("city")
    return where


def _hours(catalogue: Catalogue, item: ServiceItem) -> dict[str, str] | None:
    hours = item.hours or catalogue.hours
    return hours.to_json() if hours else None


def _place_hours(catalogue: Catalogue, own: ServiceHours | None) -> dict[str, str] | None:
    hours = own or catalogue.hours
    return hours.to_json() if hours else None


def public_json(catalogue: Catalogue) -> dict[str, Any]:
    items = [
        {
            "code": i.code,
            "names": i.names.to_json(),
            "department": i.department.to_json(),
            "decided_at": i.level,
            "where": where_handled(i),
            "modes": list(i.modes),
            "materials": list(i.materials),
            "time_limit_days": i.time_limit_days,
            "hours": _hours(catalogue, i),
        }
        for i in catalogue.items.values()
    ]
    places = [
        {
            "code": p.code,
            "level": PLACE_LEVELS[p.kind],
            "kind": p.kind,
            "names": p.names.to_json(),
            "hours": _place_hours(catalogue, p.hours),
        }
        for p in catalogue.places.values()
    ]
    return {
        "items": items,
        "places": places,
        "modes": {k: {"zh": zh, "en": en} for k, (zh, en) in MODES.items()},
        "levels": {k: v.to_json() for k, v in LEVEL_NAMES.items()},
        "timezone": catalogue.timezone,
    }


@routes.get("/api/public/catalogue")
@allow(PUBLIC)
async def catalogue_json(request: web.Request) -> web.Response:
    response = web.json_response(public_json(request.app[K.CATALOGUE]))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@routes.get("/catalogue")
@allow(PUBLIC)
async def catalogue_page(request: web.Request) -> web.Response:
    catalogue = request.app[K.CATALOGUE]
    return render(
        request,
        "catalogue.html",
        public=public_json(catalogue),
        modes=MODES,
        levels=LEVEL_NAMES,
    )
