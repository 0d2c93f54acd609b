"""The case archive on the web: case list, replay data, media files, public key.

Who may see a case: supervisors see every finalised case; a reviewer sees the
cases they handled (their account is a participant with role reviewer).

Every look at a case is itself an audit event, appended to the case's own
`events.jsonl` (only `access.*` events may follow the signed prefix, which
`remote-window verify` checks) and mirrored to the daily system log:

- `access.viewed`: the case's replay data was opened (`GET /api/cases/{id}`).
- `access.downloaded`: bytes of a file were delivered from its first byte on
  (`whole`: the delivery was the whole file, however the Range was spelled:
  none, `bytes=0-`, `bytes=000-`, a suffix as long as the file...); the event
  is written before the first byte goes out, with the range delivered. Later
  ranges of the same file (seeking) are not logged, nor a repeat by the same
  web session within `DOWNLOAD_DEDUPE_SECONDS` (browsers re-request `bytes=0-`
  when a video element reloads). A refused request (416, 404, 403) is never
  logged as a download. Any complete copy of a file includes its first byte,
  so fetching one piece by piece is logged too.

Appends take an exclusive `flock` on `events.jsonl`, so server processes and
threads sharing an archive never write the same sequence number twice.

Paths: session ids and file names are matched against strict patterns, the
folder is found from the date in the id, and a file is served only when the
signed manifest lists it; anything else is a 404, never a path on disk. No
symlink is followed below the archive root (server/archive_fs.py): a case
folder holding one is refused (404) and left out of the list.

The list is a register query (server/recordings.py: the `recordings` table,
filled when a session is finalised, recovered, or found at start), never a
walk of the tree; each entry names the register case (`case_number`) the
session is linked to, if any.

Signatures: a finalised case (no `.open` marker: not being recorded) is
served only when `manifest.sig` verifies with the archive key. One without a
valid signature (forged, or damaged) answers 409 `{"error": "unsigned"}` and
appears in the supervisors' list flagged `signed: false` with `signature`
"missing" or "invalid" (未签名); reviewers do not see it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from server import appkeys as K
from server.archive_fs import Unsafe, Unsatisfiable, byte_range, open_dir, open_file
from server.auth import IDENTITY, PUBLIC, allow
from server.case_index import (
    DATE,
    FILE_NAME,
    FILTER_MAX,
    FOLDERS,
    FoundCase,
    append_access,
    case_detail,
    find_case,
    may_see,
)
from server.pages import render
from server.recordings import REFUSED, CaseFilter

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

ROLES = ("supervisor", "reviewer")
FOLDERS["evidence"] = FOLDERS["documents"]
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
DOWNLOAD_DEDUPE_SECONDS = 60.0
CHUNK = 256 * 1024


def _json_error(status: type[web.HTTPException], code: str) -> web.HTTPException:
    return status(text=json.dumps({"error": code}), content_type="application/json")


def _not_found() -> web.HTTPException:
    return _json_error(web.HTTPNotFound, "not_found")


# -- locating and reading cases ----------------------------------------------


class _Dedupe:
    """Recently logged downloads: (web session, case, file) → monotonic time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._seen: dict[tuple[str, ...], float] = {}

    def recent(self, key: tuple[str, ...]) -> bool:
        """True when `key` was marked less than `seconds` ago."""
        last = self._seen.get(key)
        return last is not None and time.monotonic() - last < self.seconds

    def forget(self, key: tuple[str, ...]) -> None:
        self._seen.pop(key, None)

    def mark(self, key: tuple[str, ...]) -> None:
        now = time.monotonic()
        if len(self._seen) > 10_000:
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.seconds}
        self._seen[key] = now


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


def _public_key(request: web.Request) -> object | None:
    signer = request.app[K.RECORDER].signer
    return signer.public_key if signer is not None else None


async def _open_case(request: web.Request) -> FoundCase:
    """The caller's case from the URL: 404 when unknown, malformed or refused,
    403 when not theirs, 409 when its signature is missing or wrong."""
    session_id = request.match_info.get("session_id", "")
    found = await asyncio.to_thread(find_case, _root(request), session_id, _public_key(request))
    if found is None:
        # Indexed, but gone or refused on disk (a link): out of the list from now on.
        await asyncio.to_thread(request.app[K.RECORDINGS].mark, session_id, REFUSED)
        raise _not_found()
    if not may_see(request[IDENTITY], found.manifest):
        raise _json_error(web.HTTPForbidden, "forbidden")
    if not found.signed:
        # The list flags it from now on (it was indexed while intact, or never).
        await asyncio.to_thread(request.app[K.RECORDINGS].mark, session_id, found.signature)
        raise _json_error(web.HTTPConflict, "unsigned")
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
    window = None
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
    viewer = ident.subject if ident.role == "reviewer" else None
    return CaseFilter(window, text("item"), text("place"), text("reviewer"), limit, viewer)


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
    found = await asyncio.to_thread(
        request.app[K.RECORDINGS].list,
        flt,
        request.app[K.CATALOGUE],
        unsigned=request[IDENTITY].role == "supervisor",
    )
    response = web.json_response({"cases": found, "limit": flt.limit})
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/api/cases/{session_id}")
@allow(*ROLES)
async def case(request: web.Request) -> web.Response:
    found = await _open_case(request)
    if request.method == "GET":
        await _record_access(request, found.folder, "access.viewed", {})
    detail = await asyncio.to_thread(case_detail, found, request.app[K.CATALOGUE])
    response = web.json_response(detail)
    response.headers["Cache-Control"] = "no-store"
    return response


class _FileBytes(web.StreamResponse):
    """Bytes `[first, first + count)` of an open file descriptor (closed when done).

    Sent from `prepare`, like aiohttp's FileResponse, so the middlewares still
    add their headers to the response first.
    """

    def __init__(self, fd: int, first: int, count: int, status: int) -> None:
        super().__init__(status=status)
        self._fd, self._first, self._count = fd, first, count
        self.content_length = count

    async def prepare(self, request: web.BaseRequest) -> Any:
        try:
            writer = await super().prepare(request)
            if request.method != "HEAD":
                offset, left = self._first, self._count
                while left > 0:
                    chunk = await asyncio.to_thread(os.pread, self._fd, min(CHUNK, left), offset)
                    if not chunk:
                        break  # the file shrank: end early rather than pad
                    await self.write(chunk)
                    offset += len(chunk)
                    left -= len(chunk)
            await self.write_eof()
            return writer
        finally:
            self.close_file()

    def close_file(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _open_listed(found: FoundCase, subfolder: str, name: str) -> tuple[int, int]:
    """(fd, size) of a file of the case, opened without following any link."""
    with open_dir(found.root, (*found.parts, subfolder)) as dir_fd:
        fd, st = open_file(dir_fd, name)
    return fd, st.st_size


async def _case_file(request: web.Request, subfolder: str) -> web.StreamResponse:
    name = request.match_info.get("name", "")
    ext, ctype = FOLDERS[subfolder]
    match = FILE_NAME.fullmatch(name)
    if match is None or match.group(1) != ext or ".." in name:
        raise _not_found()
    found = await _open_case(request)
    rel = f"{subfolder}/{name}"
    if rel not in {f.get("path") for f in found.manifest.get("files") or []}:
        raise _not_found()
    try:
        fd, size = await asyncio.to_thread(_open_listed, found, subfolder, name)
    except Unsafe as exc:
        log.warning("case file refused", extra={"session": found.folder.name, "problem": str(exc)})
        raise _not_found() from None
    except OSError:
        raise _not_found() from None
    response: _FileBytes | None = None
    try:
        try:
            span = byte_range(request.headers.get("Range"), size)
        except Unsatisfiable:
            raise web.HTTPRequestRangeNotSatisfiable(
                headers={"Content-Range": f"bytes */{size}"}
            ) from None
        first, last = span if span is not None else (0, size - 1)
        if request.method == "GET" and first == 0 and size > 0:
            await _record_download(request, found, rel, last, size)
        response = _FileBytes(fd, first, last - first + 1, 200 if span is None else 206)
        if span is not None:
            response.headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        response.headers["Accept-Ranges"] = "bytes"
        response.content_type = ctype
        response.headers["Cache-Control"] = "private, no-store"
        return response
    finally:
        if response is None:
            os.close(fd)


async def _record_download(
    request: web.Request, found: FoundCase, rel: str, last: int, size: int
) -> None:
    """Audit a delivery from byte 0, once per web session and file within the
    dedupe window (a whole-file delivery after a partial one is logged again)."""
    ident = request[IDENTITY]
    whole = last == size - 1
    key = (ident.session_id or ident.subject, str(found.folder), rel)
    if _DOWNLOADS.recent((*key, "whole")) or (not whole and _DOWNLOADS.recent((*key, "part"))):
        return
    mark = (*key, "whole" if whole else "part")
    _DOWNLOADS.mark(mark)  # before the await: a concurrent request is not logged twice
    data = {"file": rel, "bytes": f"0-{last}/{size}", "whole": whole}
    try:
        await _record_access(request, found.folder, "access.downloaded", data)
    except BaseException:
        _DOWNLOADS.forget(mark)  # not logged, not delivered: the next try logs again
        raise


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
        error={403: "forbidden", 404: "not_found", 409: "unsigned"}.get(status, ""),
    )
    response.set_status(status)
    return response
