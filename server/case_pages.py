"""Pages of the case register: the case page and the agent's counter page.

`GET /case/{number}` is the page of one case (办件) for its reviewer (who
decides), the agent of the place it was received at (who adds pages while it
is open) and supervisors (read only). Whether the caller may see this case is
the case service's rule: a reviewer of another item or an agent of another
place gets the forbidden page, an unknown number a page that says so. The
page itself is a shell; case_page.js reads the case through the case API.

`GET /agent` is the counter (帮办代办 / 收审分离 without video): receive a case,
capture its materials, follow the place's open cases and print approvals.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from server import appkeys as K
from server.auth import IDENTITY, allow
from server.case_api import _actor
from server.catalogue import Catalogue, Place, ServiceItem
from server.pages import forbidden_page, render
from server.register.case_types import CaseForbidden, CaseNotFound

routes = web.RouteTableDef()
AGENT_MODES = ("assisted", "forward")  # what a counter receives (no video call)
# Which decision levels a counter at each kind of place receives for: townships
# and village points county matters (县乡联办), a county hall city matters too
# (市县同权), a city hall its own.
LEVELS_AT = {
    "village_point": ("county",),
    "township_centre": ("county",),
    "county_hall": ("county", "city"),
    "city_hall": ("city",),
}


def counter_items(catalogue: Catalogue, place: Place | None) -> list[ServiceItem]:
    """Items an agent at `place` may receive: offered at its level, in a counter mode."""
    levels = LEVELS_AT.get(place.kind, ()) if place else ()
    return [
        item
        for item in catalogue.items.values()
        if item.level in levels and any(m in item.modes for m in AGENT_MODES)
    ]


@routes.get("/agent")
@allow("agent")
async def agent_page(request: web.Request) -> web.Response:
    catalogue = request.app[K.CATALOGUE]
    ident = request[IDENTITY]
    place = catalogue.places.get(ident.place or "")
    return render(
        request,
        "agent.html",
        place=place,
        items=counter_items(catalogue, place),
        modes=AGENT_MODES,
    )


@routes.get("/case/{number}")
@allow("reviewer", "agent", "supervisor")
async def case_page(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    service = request.app[K.CASES]
    actor = _actor(request)
    try:
        case = await asyncio.to_thread(service.get, actor, number)
    except CaseForbidden:
        return forbidden_page(request)
    except CaseNotFound:
        return render(request, "case.html", status=404, number=number, case=None, view="none")
    catalogue = request.app[K.CATALOGUE]
    summary = case.summary
    if actor.role == "reviewer":
        view = "reviewer"
    elif actor.role == "agent":
        view = "agent"
    else:
        view = "readonly"
    return render(
        request,
        "case.html",
        number=number,
        case=summary,
        view=view,
        item=catalogue.items.get(summary.item),
        place=catalogue.places.get(summary.place),
    )
