"""The case archive on the web: case list, replay data, media files, public key.

Who may see a case: supervisors see every finalised case; a reviewer sees the
cases they handled (their account is a participant with role reviewer).

Every look at a case is itself an audit event, appended to the case's own
`events.jsonl` (only `access.*` events may follow the signed prefix, which
`remote-window verify` checks) and mirrored to the daily system log:

- `access.viewed`: the case's replay data was opened (`GET /api/cases/{id}`).
- `access.downloaded`: a file of the case was fetched from its first byte (a
  request without Range, or a Range starting at byte 0 such as `bytes=0-`);
  later range requests of the same file (seeking) are not logged, nor a repeat
  by the same web session within `DOWNLOAD_DEDUPE_SECONDS` (browsers
  re-request `bytes=0-` when a video element reloads or probes `bytes=0-1`).

Appends take an exclusive `flock` on `events.jsonl`, so server processes and
threads sharing an archive never write the same sequence number twice.

Paths: session ids and file names are matched against strict patterns, the
folder is found from the date in the id, and a file is served only when the
signed manifest lists it; anything else is a 404, never a path on disk.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from server import appkeys as K
from server.auth import IDENTITY, PUBLIC, allow
from server.case_index import (
    DATE,
    FILE_NAME,
    FILTER_MAX,
    FOLDERS,
    CaseFilter,
    append_access,
    case_detail,
    list_cases,
    load_manifest,
    may_see,
    session_folder,
)
from server.pages import render

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

ROLES = ("supervisor", "reviewer")
FOLDERS["evidence"] = FOLDERS["documents"]
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
DOWNLOAD_DEDUPE_SECONDS = 60.0


def _json_error(status: type[web.HTTPException], code: str) -> web.HTTPException:
    return status(text=json.dumps({"error": code}), content_type="application/json")


def _not_found() -> web.HTTPException:
    return _json_error(web.HTTPNotFound, "not_found")


# -- locating and reading cases ----------------------------------------------


class _Dedupe:
    """Recently logged downloads: (web session, case, file) → monotonic time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._seen: dict[tuple[str, str, str], float] = {}

    def first(self, key: tuple[str, str, str]) -> bool:
        now = time.monotonic()
        if len(self._seen) > 10_000:
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.seconds}
        last = self._seen.get(key)
        self._seen[key] = now
        return last is None or now - last >= self.seconds


_DOWNLOADS = _Dedupe(DOWNLOAD_DEDUPE_SECONDS)  # keys carry the case folder's path


async def _record_access(
    request: web.Request, folder: Path, type_: str, extra: dict[str, Any]
) -> None:
    ident = request[IDENTITY]
    data = {"role": ident.role, "ip": request.remote, **extra}
    await asyncio.to_thread(append_access, folder, type_, ident.subject, data)
    request.app[K.RECORDER].system(type_, ident.subject, {"session": folder.name, **data})


# -- handlers --------------------------------------------------------------------


def _root(request: web.Request) -> Path:
    return request.app[K.RECORDER].root


async def _open_case(request: web.Request) -> tuple[Path, dict[str, Any]]:
    """The caller's case from the URL: 404 when unknown or malformed, 403 when not theirs."""
    session_id = request.match_info.get("session_id", "")
    root = _root(request)

    def load() -> tuple[Path, dict[str, Any]] | None:
        folder = session_folder(root, session_id)
        if folder is None:
            return None
        manifest = load_manifest(folder)
        return None if manifest is None else (folder, manifest)

    found = await asyncio.to_thread(load)
    if found is None:
        raise _not_found()
    if not may_see(request[IDENTITY], found[1]):
        raise _json_error(web.HTTPForbidden, "forbidden")
    return found


def _query_filter(request: web.Request) -> CaseFilter:
    query = request.query
    ident = request[IDENTITY]

    def text(name: str) -> str | None:
        value = query.get(name, "").strip()
        if len(value) > FILTER_MAX:
            raise _json_error(web.HTTPBadRequest, f"bad_{name}")
        return value or None

    try:
        limit = int(query.get("limit") or DEFAULT_LIMIT)
    except ValueError:
        raise _json_error(web.HTTPBadRequest, "bad_limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise _json_error(web.HTTPBadRequest, "bad_limit")
    try:
        tz_minutes = int(query.get("tz") or 0)
    except ValueError:
        raise _json_error(web.HTTPBadRequest, "bad_tz") from None
    if not -14 * 60 <= tz_minutes <= 14 * 60:
        raise _json_error(web.HTTPBadRequest, "bad_tz")
    days = window = None
    if day_text := text("date"):
        if not DATE.fullmatch(day_text):
            raise _json_error(web.HTTPBadRequest, "bad_date")
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            raise _json_error(web.HTTPBadRequest, "bad_date") from None
        # The local day [00:00, 24:00) at UTC offset tz spans at most two UTC days.
        start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(minutes=tz_minutes)
        window = (start, start + timedelta(days=1))
        days = sorted({start.date(), (window[1] - timedelta(microseconds=1)).date()})
    viewer = ident.subject if ident.role == "reviewer" else None
    return CaseFilter(days, window, text("item"), text("place"), text("reviewer"), limit, viewer)


@routes.get("/api/archive/public-key")
@allow(PUBLIC)
async def public_key(request: web.Request) -> web.Response:
    """The Ed25519 public key that verifies every manifest.sig (PEM)."""
    signer = request.app[K.RECORDER].signer
    if signer is None:
        raise _json_error(web.HTTPServiceUnavailable, "not_ready")
    return web.Response(
        body=signer.public_key_pem(),
        content_type="text/plain",
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@routes.get("/api/cases")
@allow(*ROLES)
async def cases(request: web.Request) -> web.Response:
    flt = _query_filter(request)
    found = await asyncio.to_thread(list_cases, _root(request), flt, request.app[K.CATALOGUE])
    response = web.json_response({"cases": found, "limit": flt.limit})
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/api/cases/{session_id}")
@allow(*ROLES)
async def case(request: web.Request) -> web.Response:
    folder, manifest = await _open_case(request)
    if request.method == "GET":
        await _record_access(request, folder, "access.viewed", {})
    signer = request.app[K.RECORDER].signer
    detail = await asyncio.to_thread(
        case_detail,
        folder,
        manifest,
        request.app[K.CATALOGUE],
        signer.public_key if signer else None,
    )
    response = web.json_response(detail)
    response.headers["Cache-Control"] = "no-store"
    return response


def _first_request(request: web.Request) -> bool:
    if request.method != "GET":
        return False
    ranges = request.headers.get("Range", "").replace(" ", "").lower()
    return ranges == "" or ranges.startswith("bytes=0-")


async def _case_file(request: web.Request, subfolder: str) -> web.StreamResponse:
    name = request.match_info.get("name", "")
    ext, ctype = FOLDERS[subfolder]
    match = FILE_NAME.fullmatch(name)
    if match is None or match.group(1) != ext or ".." in name:
        raise _not_found()
    folder, manifest = await _open_case(request)
    rel = f"{subfolder}/{name}"
    listed = {f.get("path") for f in manifest.get("files") or []}
    base = (folder / subfolder).resolve()
    target = (folder / rel).resolve()
    if rel not in listed or target.parent != base or not target.is_file():
        raise _not_found()
    if _first_request(request):
        ident = request[IDENTITY]
        key = (ident.session_id or ident.subject, str(folder.resolve()), rel)
        if _DOWNLOADS.first(key):
            await _record_access(request, folder, "access.downloaded", {"file": rel})
    response = web.FileResponse(target)
    response.content_type = ctype
    response.headers["Cache-Control"] = "private, no-store"
    return response


@routes.get("/api/cases/{session_id}/media/{name}")
@allow(*ROLES)
async def case_media(request: web.Request) -> web.StreamResponse:
    return await _case_file(request, "media")


@routes.get("/api/cases/{session_id}/documents/{name}")
@allow(*ROLES)
async def case_document(request: web.Request) -> web.StreamResponse:
    return await _case_file(request, "documents")


@routes.get("/api/cases/{session_id}/evidence/{name}")
@allow(*ROLES)
async def case_evidence(request: web.Request) -> web.StreamResponse:
    return await _case_file(request, "evidence")


# -- pages -------------------------------------------------------------------------


@routes.get("/cases")
@allow(*ROLES)
async def cases_page(request: web.Request) -> web.Response:
    return render(request, "cases.html", catalogue=request.app[K.CATALOGUE])


@routes.get("/cases/{session_id}")
@allow(*ROLES)
async def replay_page(request: web.Request) -> web.Response:
    """The replay shell; the data (and the access.viewed event) come from the API.

    An unknown case or someone else's renders the page's error state with 404/403.
    """
    session_id = request.match_info["session_id"]
    status = 200
    try:
        await _open_case(request)
    except web.HTTPException as exc:
        status = exc.status
    response = render(
        request,
        "replay.html",
        session_id=session_id if status == 200 else "",
        error={403: "forbidden", 404: "not_found"}.get(status, ""),
    )
    response.set_status(status)
    return response
