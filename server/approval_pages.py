"""Printed and public pages of a case: the receipt (受理回执) and the verification page.

    GET /case/{number}/receipt   agent of the case's place, reviewer of its item:
                                 a printable receipt with a QR code of the
                                 verification page
    GET /verify/{code}           public, no sign-in: the case number, the item,
                                 the state or decision and the approval
                                 document's SHA-256, nothing else

Both QR codes are inline SVG (segno), so printing needs nothing but the page.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import segno
from aiohttp import web
from markupsafe import Markup

from server import appkeys as K
from server.auth import PUBLIC, allow
from server.case_api import _actor, public_base
from server.pages import forbidden_page, render
from server.register.case_types import CaseForbidden, CaseNotFound, CaseState

routes = web.RouteTableDef()
STATE_NAMES = {
    "received": ("受理中", "Received, in progress"),
    "in_review": ("受理中（审查中）", "In progress (under review)"),
    "more_materials_requested": ("受理中（待补正材料）", "In progress (more materials requested)"),
    "approved": ("准予办理", "Approved"),
    "rejected": ("不予办理", "Rejected"),
    "withdrawn": ("已撤回", "Withdrawn"),
}


def qr_svg(url: str, title: str) -> Markup:
    """An inline SVG QR code of `url` (sized by CSS: it has a viewBox, no fixed size)."""
    code = segno.make(url, error="m", micro=False)
    return Markup(code.svg_inline(scale=1, border=4, title=title, svgclass="qr", omitsize=True))


def state_names(state: str) -> dict[str, str]:
    zh, en = STATE_NAMES.get(state, (state, state))
    return {"zh": zh, "en": en}


@routes.get("/verify/{code}")
@allow(PUBLIC)
async def verify_page(request: web.Request) -> web.Response:
    found = await asyncio.to_thread(request.app[K.APPROVALS].public, request.match_info["code"])
    if found is None:
        return render(request, "verify.html", status=404, found=None, state=None)
    return render(request, "verify.html", found=found, state=state_names(found["state"]))


@routes.get("/case/{number}/receipt")
@allow("agent", "reviewer")
async def receipt_page(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    cases = request.app[K.CASES]
    try:
        case = await asyncio.to_thread(cases.get, _actor(request), number)
    except CaseForbidden:
        return forbidden_page(request)
    except CaseNotFound:
        return render(request, "receipt.html", status=404, case=None, number=number)
    return render(request, "receipt.html", **_receipt(request, case.to_json()))


def _receipt(request: web.Request, case: dict[str, Any]) -> dict[str, Any]:
    catalogue = request.app[K.CATALOGUE]
    item = catalogue.items.get(case["item"])
    place = catalogue.places.get(case["place"])
    url = request.app[K.APPROVALS].verify_url(public_base(request), case["number"])
    rate_url = request.app[K.RATINGS].rate_url(public_base(request), case["number"])
    received_at = datetime.fromisoformat(case["received_at"]).timestamp()
    received = catalogue.local_time(received_at).strftime("%Y-%m-%d %H:%M")
    return {
        "case": case,
        "number": case["number"],
        "item_names": item.names.to_json() if item else _same(case["item"]),
        "place_names": place.names.to_json() if place else _same(case["place"]),
        "time_limit_days": item.time_limit_days if item else None,
        "received": received,
        "state": state_names(case["state"]),
        "open": case["state"] not in {CaseState.APPROVED, CaseState.REJECTED, CaseState.WITHDRAWN},
        "verify_url": url,
        "qr": qr_svg(url, case["number"]),
        "rate_url": rate_url,
        "rate_qr": qr_svg(rate_url, case["number"]),
        "rate_days": request.app[K.CONFIG].ratings.case_link_days,
    }


def _same(code: str) -> dict[str, str]:
    """Names for a code the catalogue no longer has: the code in both languages."""
    return {"zh": code, "en": code}
