"""The case archive over HTTP: list, replay data, media with ranges, access audit.

Two real sessions are recorded once through the real server (kiosk-1 with
"reviewer", kiosk-2 with "reviewer2"); every test starts its own server on a
copy of that data dir (archive, keys, system log), so tests may append events.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from recording.audit import AuditLog, read_events
from recording.verify import main as verify_main
from server import appkeys as K
from server.auth import COOKIE
from server.bench.driver import Peer
from server.bench.source import vp8_clip
from server.config import Config
from tests.conftest import RunningServer, make_config, start_server

JOIN = {"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True}


# -- recording real sessions (also used by tests/browser/test_replay.py) ----------


async def record_session(
    running: RunningServer,
    kiosk: str = "kiosk-1",
    reviewer: str = "reviewer",
    frames: int = 75,
    *,
    rejoin: bool = False,
) -> Path:
    """A real video session through the server (about frames/30 s of media both ways),
    ended by the reviewer; returns its finalised case folder. With `rejoin`, the
    kiosk's connection is replaced halfway (a page reload): two kiosk segments."""
    kiosk_client, desk = await running.pair(kiosk, reviewer)
    clip = vp8_clip(160, 120, 150_000, 30)
    kiosk_peer, desk_peer = Peer(clip), Peer(clip)
    peers = [kiosk_peer, desk_peer]
    try:
        await asyncio.gather(kiosk_peer.negotiate(kiosk_client), desk_peer.negotiate(desk))
        await kiosk_client.expect("session.state", timeout=20, state="live")
        if rejoin:
            await desk_peer.wait_decoded("video", frames // 2)
            await kiosk_peer.close()
            kiosk_peer = Peer(clip)
            peers.append(kiosk_peer)
            await kiosk_peer.negotiate(kiosk_client)
            await desk_peer.wait_decoded("video", frames + frames // 2)
        await kiosk_peer.wait_decoded("video", frames)
        await desk_peer.wait_decoded("video", frames)
        await desk.send({"type": "session.end", "outcome": "completed"})
        session_id = (await kiosk_client.expect("session.ended", timeout=20))["session_id"]
    finally:
        for peer in peers:
            await peer.close()
    await kiosk_client.close()
    await desk.close()
    recorder = running.app[K.RECORDER]
    async with asyncio.timeout(20):
        await recorder.wait_finalized(session_id)
    [folder] = recorder.root.glob(f"*/*/*/{session_id}")
    return folder


# -- fixtures ------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    data_dir: Path
    mine: str  # handled by "reviewer" (kiosk-1, QH-CG)
    other: str  # handled by "reviewer2" (kiosk-2, QH-LL)


@pytest.fixture(scope="module")
def template(
    tmp_path_factory: pytest.TempPathFactory, accounts_template: tuple[Path, dict[str, str]]
) -> Template:
    data_dir = tmp_path_factory.mktemp("archive-template") / "data"

    async def record() -> tuple[str, str]:
        srv = await start_server(make_config(data_dir), accounts_template)
        try:
            mine = await record_session(srv, "kiosk-1", "reviewer")
            other = await record_session(srv, "kiosk-2", "reviewer2")
        finally:
            await srv.close()
        return mine.name, other.name

    mine, other = asyncio.run(record())
    return Template(data_dir, mine, other)


@pytest.fixture
def config(tmp_path: Path, template: Template) -> Config:
    data_dir = tmp_path / "data"
    shutil.copytree(template.data_dir / "archive", data_dir / "archive")
    shutil.copytree(template.data_dir / "keys", data_dir / "keys")
    return make_config(data_dir, queue={"grace_seconds": 60})


@dataclass
class Case:
    id: str
    folder: Path
    manifest: dict[str, Any]

    def media(self, kind: str = "video", role: str = "kiosk") -> str:
        [path] = [
            f["path"]
            for f in self.manifest["files"]
            if f["path"].startswith(f"media/{role}-") and f"-{kind}-" in f["path"]
        ]
        return path


def _case(running: RunningServer, session_id: str) -> Case:
    [folder] = running.app[K.RECORDER].root.glob(f"*/*/*/{session_id}")
    return Case(session_id, folder, json.loads((folder / "manifest.json").read_text()))


@pytest.fixture
def mine(running: RunningServer, template: Template) -> Case:
    return _case(running, template.mine)


@pytest.fixture
def other(running: RunningServer, template: Template) -> Case:
    return _case(running, template.other)


@pytest.fixture
async def supervisor(running: RunningServer) -> AsyncIterator[aiohttp.ClientSession]:
    session, _ = await running.http("supervisor")
    yield session


async def _get_json(session: aiohttp.ClientSession, path: str, status: int = 200) -> Any:
    async with session.get(path, headers={"Accept": "application/json"}) as resp:
        body = await resp.text()
        assert resp.status == status, (path, resp.status, body)
        return json.loads(body) if body and status == 200 else body


def _events(case: Case) -> list[dict[str, Any]]:
    return read_events(case.folder / "events.jsonl")


# -- listing and opening ----------------------------------------------------------------


async def test_supervisor_lists_and_filters_cases(
    running: RunningServer, supervisor: aiohttp.ClientSession, mine: Case, other: Case
) -> None:
    listed = (await _get_json(supervisor, "/api/cases"))["cases"]
    assert [c["id"] for c in listed] == [other.id, mine.id]  # newest first
    first = listed[1]
    assert first["item"] == "SCJG-001"
    assert first["item_names"]["zh"] and first["item_names"]["en"]
    assert first["place"] == "QH-CG" and first["place_names"]["zh"]
    assert first["reviewers"] == ["reviewer"]
    assert first["outcome"] == "completed"
    assert 1.5 < first["duration_s"] < 30
    assert first["started_at"] == mine.manifest["started_at"]

    async def ids(query: str) -> list[str]:
        return [c["id"] for c in (await _get_json(supervisor, f"/api/cases?{query}"))["cases"]]

    assert await ids("reviewer=reviewer") == [mine.id]
    assert await ids("reviewer=reviewer2") == [other.id]
    assert await ids("place=QH-LL") == [other.id]
    assert await ids("item=SCJG-001") == [other.id, mine.id]
    assert await ids("item=RSJ-001") == []
    assert await ids("limit=1") == [other.id]
    started = datetime.fromisoformat(mine.manifest["started_at"].replace("Z", "+00:00"))
    assert mine.id in await ids(f"date={started.date().isoformat()}")
    assert await ids(f"date={(started + timedelta(days=2)).date().isoformat()}") == []
    # The local day of a time zone 14 h ahead starts 14 h earlier in UTC.
    local = (started + timedelta(hours=14)).date().isoformat()
    assert mine.id in await ids(f"date={local}&tz=840")
    for bad in ("date=2026-13-01", "date=yesterday", "limit=0", "limit=abc", "tz=9999"):
        await _get_json(supervisor, f"/api/cases?{bad}", status=400)


async def test_supervisor_opens_a_case_with_lanes_and_events(
    supervisor: aiohttp.ClientSession, mine: Case
) -> None:
    detail = await _get_json(supervisor, f"/api/cases/{mine.id}")
    case = detail["case"]
    assert case["id"] == mine.id and case["outcome"] == "completed"
    assert {p["role"] for p in case["participants"]} == {"kiosk", "reviewer"}
    assert [lane["role"] for lane in detail["lanes"]] == ["kiosk", "reviewer"]
    for lane in detail["lanes"]:
        [segment] = lane["segments"]
        assert segment["segment"] == 1
        assert 0 <= segment["offset_s"] < segment["end_s"] <= case["duration_s"] + 0.01
        for kind in ("video", "audio"):
            media = segment[kind]
            assert media["url"] == f"/api/cases/{mine.id}/{media['file']}"
            assert media["duration"] > 1
    types = [e["type"] for e in detail["events"]]
    for expected in ("session.created", "participant.joined", "archive.finalized"):
        assert expected in types
    signed = [e for e in detail["events"] if e["signed"]]
    assert len(signed) == mine.manifest["events"]["lines"]
    assert all(e["offset_s"] >= 0 for e in signed)
    assert detail["integrity"] == {
        "signature_ok": True,
        "chain_problem": None,
        "signed_events": mine.manifest["events"]["lines"],
        "only_access_after_signing": True,
    }
    # The view itself was recorded before the data was read: it is in the list.
    assert detail["events"][-1]["type"] == "access.viewed"
    assert not detail["events"][-1]["signed"]


async def test_a_rejoin_gives_a_lane_two_segments_and_a_gap(
    running: RunningServer, supervisor: aiohttp.ClientSession
) -> None:
    folder = await record_session(running, "kiosk-3", "reviewer", frames=45, rejoin=True)
    detail = await _get_json(supervisor, f"/api/cases/{folder.name}")
    kiosk, reviewer = detail["lanes"]
    assert kiosk["role"] == "kiosk" and reviewer["role"] == "reviewer"
    assert [s["segment"] for s in kiosk["segments"]] == [1, 2]
    assert [s["segment"] for s in reviewer["segments"]] == [1]
    first, second = kiosk["segments"]
    assert first["end_s"] <= second["offset_s"]
    assert second["video"]["file"].endswith("-video-2.webm")
    [gap] = detail["gaps"]
    assert gap["participant"] == kiosk["participant"]
    assert gap["from_s"] == first["end_s"] and gap["to_s"] == second["offset_s"]
    assert verify_main([str(folder)]) == 0

    # The chain is in the order things happened, each event stamped when it
    # happened (not when the archive thread got to write it).
    events = read_events(folder / "events.jsonl")
    times = [e["time"] for e in events]
    assert times == sorted(times)
    types = [e["type"] for e in events]
    assert types.index("session.created") < types.index("segment.opened")
    created = next(e for e in events if e["type"] == "session.created")
    opened = [e for e in events if e["type"] == "segment.opened"]
    assert created["time"] <= min(e["data"]["start"] for e in opened)
    assert all(e["time"] == e["data"]["start"] for e in opened)


async def test_reviewer_sees_only_the_cases_they_handled(
    running: RunningServer, mine: Case, other: Case
) -> None:
    reviewer, _ = await running.http("reviewer")
    reviewer2, _ = await running.http("reviewer2")
    city, _ = await running.http("city")
    listed = (await _get_json(reviewer, "/api/cases"))["cases"]
    assert [c["id"] for c in listed] == [mine.id]
    # Asking for another reviewer's cases does not widen a reviewer's view.
    assert (await _get_json(reviewer, "/api/cases?reviewer=reviewer2"))["cases"] == []
    assert [c["id"] for c in (await _get_json(reviewer2, "/api/cases"))["cases"]] == [other.id]
    assert (await _get_json(city, "/api/cases"))["cases"] == []

    await _get_json(reviewer, f"/api/cases/{mine.id}")
    before = len(_events(mine))
    await _get_json(reviewer2, f"/api/cases/{mine.id}", status=403)
    for path in (mine.media("video"), mine.media("audio")):
        async with reviewer2.get(f"/api/cases/{mine.id}/{path}") as resp:
            assert resp.status == 403
            assert b"\x1a\x45\xdf\xa3" not in await resp.read()  # no WebM bytes
    async with reviewer2.get(f"/cases/{mine.id}", headers={"Accept": "text/html"}) as resp:
        assert resp.status == 403
        assert "/static/replay.js" in await resp.text()  # the page explains, in its language
    assert len(_events(mine)) == before  # refused requests leave no access events
    async with reviewer.get(f"/api/cases/{mine.id}/{mine.media('video')}") as resp:
        assert resp.status == 200


async def test_anonymous_kiosk_and_other_roles_are_refused(
    running: RunningServer, mine: Case
) -> None:
    paths = [
        "/api/cases",
        f"/api/cases/{mine.id}",
        f"/api/cases/{mine.id}/{mine.media()}",
        f"/cases/{mine.id}",
        "/cases",
    ]
    anon, _ = await running.http()
    for path in paths:
        async with anon.get(path, headers={"Accept": "application/json"}) as resp:
            assert resp.status == 401, path
    async with anon.get(f"/cases/{mine.id}", allow_redirects=False) as resp:
        assert resp.status in (302, 401)
    token = {"Authorization": f"Bearer {running.kiosk_tokens['kiosk-1']}"}
    for path in paths:
        async with anon.get(path, headers={"Accept": "application/json", **token}) as resp:
            assert resp.status == 403, path
    for username in ("admin", "agent"):
        session, _ = await running.http(username)
        for path in paths:
            async with session.get(path, headers={"Accept": "application/json"}) as resp:
                assert resp.status == 403, (username, path)
    async with anon.get("/api/archive/public-key") as resp:
        assert resp.status == 200


# -- paths -----------------------------------------------------------------------------


async def _raw_get(running: RunningServer, path: str, cookie: str) -> tuple[int, bytes]:
    """`path` byte for byte, signed in by the session cookie, asking for JSON."""
    headers = {"Cookie": f"{COOKIE}={cookie}", "Accept": "application/json"}
    return await running.raw_get(path, headers)


def _cookie(running: RunningServer, session: aiohttp.ClientSession) -> str:
    return session.cookie_jar.filter_cookies(running.server.make_url("/"))[COOKIE].value


async def test_path_tricks_are_404_and_never_file_contents(
    running: RunningServer, supervisor: aiohttp.ClientSession, mine: Case, other: Case
) -> None:
    cookie = _cookie(running, supervisor)
    base = f"/api/cases/{mine.id}"
    day = datetime.strptime(mine.id[:8], "%Y%m%d")
    moved = (day - timedelta(days=3)).strftime("%Y%m%d") + mine.id[8:]
    foreign = other.media("video")  # exists, but in the other case's folder
    assert not (mine.folder / foreign).exists()
    tricks = [
        f"{base}/media/..%2Fmanifest.json",
        f"{base}/media/..%2Fevents.jsonl",
        f"{base}/media/..%2F..%2F..%2F..%2F..%2F..%2Fkeys%2Farchive_ed25519.pem",
        f"{base}/media/%2e%2e%2fmanifest.json",
        f"{base}/media/%2e%2e/manifest.json",
        f"{base}/media/../manifest.json",
        f"{base}/media/..%5Cmanifest.json",
        f"{base}/media/%2Fetc%2Fpasswd",
        f"{base}/media//etc/passwd",
        f"{base}/media/{quote(str(mine.folder / 'manifest.json'), safe='')}",
        f"{base}/media/manifest.json",
        f"{base}/media/manifest.sig",
        f"{base}/media/events.jsonl",
        f"{base}/media/{mine.media()}",
        f"{base}/media/{Path(mine.media()).stem}.jpg",
        f"{base}/media/{Path(mine.media()).name}%00.webm",
        f"{base}/documents/{Path(mine.media()).name}",
        f"{base}/documents/..%2Fmedia%2F{Path(mine.media()).name}",
        f"{base}/media/{Path(foreign).name}",
        f"{base}/media/.{Path(mine.media()).name}",
        f"/api/cases/{moved}",
        f"/api/cases/{moved}/{mine.media()}",
        f"/api/cases/{mine.id}%2F..%2F{other.id}",
        "/api/cases/..%2F..%2F..%2F..%2Fkeys/media/archive_ed25519.pem",
        f"/api/cases/%2e%2e/media/{Path(mine.media()).name}",
        # (an all-digit random part has no upper case: then the id itself)
        *([f"/api/cases/{mine.id.upper()}"] if mine.id.upper() != mine.id else []),
        f"/api/cases/{mine.id}x",
        f"/api/cases/{mine.id[:-1]}",
        f"/api/cases/{quote('٢٠٢٦')}{mine.id[4:]}",  # Arabic-Indic digits
        "/api/cases/20261399-000000-deadbeef",
        f"/cases/{moved}",
        "/cases/..%2Fapi%2Fcases",
    ]
    secrets = [b"session_id", b"PRIVATE KEY", b"root:", b'"hash"', b"\x1a\x45\xdf\xa3"]
    for path in tricks:
        status, body = await _raw_get(running, path, cookie)
        assert status == 404, (path, status, body[:200])
        for secret in secrets:
            assert secret not in body, (path, secret)
    # The same request with the real name works (the tricks were refused, not the caller).
    status, body = await _raw_get(running, f"{base}/{mine.media()}", cookie)
    assert status == 200 and body == (mine.folder / mine.media()).read_bytes()


# -- media ------------------------------------------------------------------------------


async def test_range_requests_return_206_with_the_right_bytes(
    supervisor: aiohttp.ClientSession, mine: Case
) -> None:
    path = mine.media("video")
    data = (mine.folder / path).read_bytes()
    url = f"/api/cases/{mine.id}/{path}"
    async with supervisor.get(url, headers={"Range": "bytes=100-1099"}) as resp:
        assert resp.status == 206
        assert resp.headers["Content-Range"] == f"bytes 100-1099/{len(data)}"
        assert resp.headers["Content-Type"] == "video/webm"
        assert await resp.read() == data[100:1100]
    async with supervisor.get(url, headers={"Range": f"bytes={len(data) - 10}-"}) as resp:
        assert resp.status == 206
        size = len(data)
        assert resp.headers["Content-Range"] == f"bytes {size - 10}-{size - 1}/{size}"
        assert await resp.read() == data[-10:]
    async with supervisor.get(url) as resp:
        assert resp.status == 200
        assert resp.headers["Accept-Ranges"] == "bytes"
        assert "no-store" in resp.headers["Cache-Control"]
        assert await resp.read() == data
    async with supervisor.get(url, headers={"Range": f"bytes={len(data) + 5}-"}) as resp:
        assert resp.status == 416


# -- access audit ---------------------------------------------------------------------------


async def _system_events(running: RunningServer, type_: str, count: int) -> list[dict[str, Any]]:
    found = [e for e in await running.system_events() if e["type"] == type_]
    assert len(found) >= count, found
    return found


async def test_views_and_downloads_are_audit_events_and_verify_still_passes(
    running: RunningServer, supervisor: aiohttp.ClientSession, mine: Case
) -> None:
    signed = mine.manifest["events"]["lines"]
    assert len(_events(mine)) == signed
    await _get_json(supervisor, f"/api/cases/{mine.id}")
    video, audio = mine.media("video"), mine.media("audio")
    async with supervisor.get(f"/api/cases/{mine.id}/{video}", headers={"Range": "bytes=0-"}):
        pass
    # Seeking (later ranges) is not a new download; neither is a quick repeat.
    for ranges in ("bytes=200-", "bytes=1000-1999", "bytes=0-", "bytes=0-1"):
        async with supervisor.get(f"/api/cases/{mine.id}/{video}", headers={"Range": ranges}):
            pass
    async with supervisor.get(f"/api/cases/{mine.id}/{audio}") as resp:
        assert resp.status == 200
    reviewer, _ = await running.http("reviewer")
    async with reviewer.get(f"/api/cases/{mine.id}/{video}") as resp:
        assert resp.status == 200

    added = _events(mine)[signed:]
    assert [(e["type"], e["actor"]) for e in added] == [
        ("access.viewed", "supervisor"),
        ("access.downloaded", "supervisor"),
        ("access.downloaded", "supervisor"),
        ("access.downloaded", "reviewer"),
    ]
    assert added[0]["data"]["role"] == "supervisor"
    assert [e["data"].get("file") for e in added[1:]] == [video, audio, video]
    assert added[3]["data"]["role"] == "reviewer"
    assert verify_main([str(mine.folder)]) == 0

    # Mirrored to the system audit log, naming the case.
    viewed = await _system_events(running, "access.viewed", 1)
    assert viewed[-1]["actor"] == "supervisor" and viewed[-1]["data"]["session"] == mine.id
    downloads = await _system_events(running, "access.downloaded", 3)
    assert {(e["actor"], e["data"]["file"]) for e in downloads} == {
        ("supervisor", video),
        ("supervisor", audio),
        ("reviewer", video),
    }
    assert all(e["data"]["session"] == mine.id for e in downloads)


async def test_concurrent_views_keep_one_valid_chain(
    supervisor: aiohttp.ClientSession, running: RunningServer, mine: Case
) -> None:
    reviewer, _ = await running.http("reviewer")
    signed = mine.manifest["events"]["lines"]
    await asyncio.gather(
        *(
            _get_json(session, f"/api/cases/{mine.id}")
            for _ in range(10)
            for session in (supervisor, reviewer)
        )
    )
    added = _events(mine)[signed:]
    assert len(added) == 20 and {e["type"] for e in added} == {"access.viewed"}
    assert [e["seq"] for e in added] == list(range(signed + 1, signed + 21))
    assert verify_main([str(mine.folder)]) == 0


async def test_a_non_access_event_after_signing_fails_verify(
    supervisor: aiohttp.ClientSession, mine: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    await _get_json(supervisor, f"/api/cases/{mine.id}")
    assert verify_main([str(mine.folder)]) == 0
    with AuditLog(mine.folder / "events.jsonl") as log:
        log.append("session.note", "supervisor", {"text": "added later"})
    capsys.readouterr()
    assert verify_main([str(mine.folder)]) == 1
    assert "'session.note' added after the manifest was signed" in capsys.readouterr().out
    # The replay data says so too.
    detail = await _get_json(supervisor, f"/api/cases/{mine.id}")
    assert detail["integrity"]["only_access_after_signing"] is False


async def test_public_key_route_verifies_the_manifest_signature(
    running: RunningServer, mine: Case, other: Case
) -> None:
    anon, _ = await running.http()
    async with anon.get("/api/archive/public-key") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        pem = await resp.read()
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    key = load_pem_public_key(pem)
    assert isinstance(key, Ed25519PublicKey)
    for case in (mine, other):
        data = (case.folder / "manifest.json").read_bytes()
        signature = base64.b64decode((case.folder / "manifest.sig").read_bytes())
        key.verify(signature, data)  # raises InvalidSignature on a mismatch
    assert b"PRIVATE" not in pem


# -- pages -------------------------------------------------------------------------------


async def test_case_pages_render_under_the_strict_csp(
    supervisor: aiohttp.ClientSession, mine: Case
) -> None:
    async with supervisor.get("/cases", headers={"Accept": "text/html"}) as resp:
        assert resp.status == 200
        html = await resp.text()
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert '<script type="module" src="/static/cases.js">' in html
    assert 'id="f-reviewer"' in html  # supervisors filter by reviewer
    async with supervisor.get(f"/cases/{mine.id}", headers={"Accept": "text/html"}) as resp:
        assert resp.status == 200
        html = await resp.text()
    assert f'data-session="{mine.id}"' in html
    assert "/static/replay.js" in html and "/static/replay.css" in html
    for inline in ("<script>", "style=", "onclick"):
        assert inline not in html
    async with supervisor.get("/cases/nope", headers={"Accept": "text/html"}) as resp:
        assert resp.status == 404
    for name in ("replay.js", "cases.js", "replay.css"):
        async with supervisor.get(f"/static/{name}") as resp:
            assert resp.status == 200, name


async def test_reviewer_case_list_page_has_no_reviewer_filter(running: RunningServer) -> None:
    reviewer, _ = await running.http("reviewer")
    async with reviewer.get("/cases", headers={"Accept": "text/html"}) as resp:
        assert resp.status == 200
        assert 'id="f-reviewer"' not in await resp.text()
