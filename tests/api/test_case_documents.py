"""Materials of a case on a real server: store pages, the checklist, refusals that
write nothing, unreadable pages blocking the approval, audited fetches, verify."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from recording.verify import main as verify_main
from server import appkeys as K
from server.config import Config
from server.register.case_types import Actor
from tests.api.test_case_api import BASE, NEW, _get, _post, _signed_in
from tests.conftest import PASSWORD, RunningServer, make_config, start_server
from tests.unit.doc_images import GPS_MARK, decodes, jpeg, with_exif

MATERIALS = ["经营者身份证明", "经营场所使用证明", "个体工商户登记申请书"]  # SCJG-001
Caller = tuple[aiohttp.ClientSession, dict]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path / "data", cases={"max_document_bytes": 64 * 1024})


async def _upload(
    caller: Caller, number: str, material: str, data: bytes, **query: str
) -> tuple[int, dict]:
    session, headers = caller
    params = "".join(f"&{k}={quote(v)}" for k, v in query.items())
    path = f"{BASE}/{number}/documents?material={quote(material)}{params}"
    headers = {**headers, "Content-Type": "image/jpeg"}
    async with session.post(path, data=io.BytesIO(data), headers=headers) as resp:
        return resp.status, await resp.json()


def _case_dir(running: RunningServer, number: str) -> Path:
    return running.app[K.RECORDER].root / "cases" / number


def _stored(running: RunningServer, number: str) -> tuple[list[str], int, int]:
    """(files in the case folder, chain lines, document rows) to compare before/after."""
    folder = _case_dir(running, number)
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    events = folder / "events.jsonl"
    lines = len(events.read_bytes().splitlines()) if events.exists() else 0
    rows = len(running.app[K.DOCUMENTS].list(Actor("supervisor", "supervisor"), number))
    return files, lines, rows


async def test_pages_are_stored_checked_off_and_approved(running: RunningServer) -> None:
    agent = await _signed_in(running, "agent")
    reviewer = await _signed_in(running, "reviewer")
    number = (await _post(agent, BASE, NEW))[1]["number"]
    status, case = await _get(reviewer, f"{BASE}/{number}")
    assert [(c["code"], c["captured"]) for c in case["checklist"]] == [
        (m, False) for m in MATERIALS
    ]

    status, doc = await _upload(agent, number, MATERIALS[0], with_exif(jpeg()), source="camera")
    assert status == 201, doc
    assert (doc["file"], doc["page"], doc["state"], doc["source"]) == (
        "documents/1-1.jpg",
        1,
        "ok",
        "camera",
    )
    stored = (_case_dir(running, number) / doc["file"]).read_bytes()
    assert GPS_MARK not in stored and b"Exif\x00\x00" not in stored and decodes(stored)
    assert (_case_dir(running, number) / doc["file"]).stat().st_mode & 0o777 == 0o600
    assert _case_dir(running, number).stat().st_mode & 0o777 == 0o700
    assert (await _upload(reviewer, number, MATERIALS[1], b"%PDF-1.4 scanned"))[0] == 201
    assert (await _upload(reviewer, number, MATERIALS[2], jpeg(), page="1"))[0] == 201
    assert (await _upload(reviewer, number, MATERIALS[0], jpeg(32, 32)))[1]["page"] == 2

    status, case = await _get(agent, f"{BASE}/{number}")
    assert [c["pages"] for c in case["checklist"]] == [2, 1, 1]
    assert all(c["captured"] and c["state"] == "received" for c in case["checklist"])
    status, listed = await _get(reviewer, f"{BASE}/{number}/documents")
    assert [(d["material"], d["page"]) for d in listed["documents"]] == [
        (MATERIALS[0], 1),
        (MATERIALS[0], 2),
        (MATERIALS[1], 1),
        (MATERIALS[2], 1),
    ]

    pdf_id = listed["documents"][2]["id"]
    async with reviewer[0].get(f"{BASE}/{number}/documents/{pdf_id}") as resp:
        assert resp.status == 200 and resp.content_type == "application/pdf"
        assert await resp.read() == b"%PDF-1.4 scanned"
    chain = (_case_dir(running, number) / "events.jsonl").read_text().splitlines()
    access = json.loads(chain[-1])
    assert access["type"] == "access.downloaded" and access["data"]["file"] == "documents/2-1.pdf"
    assert "access.downloaded" in [e["type"] for e in await running.system_events()]

    assert (await _post(reviewer, f"{BASE}/{number}/transition", {"to": "in_review"}))[0] == 200
    status, done = await _post(reviewer, f"{BASE}/{number}/approval", {"reasons": "材料齐全"})
    assert status == 200 and done["state"] == "approved", done
    # Verify the data dir's archive: the case file with its access line passes.
    assert verify_main([str(running.app[K.RECORDER].root)]) == 0


async def test_bad_pages_are_refused_and_write_nothing(running: RunningServer) -> None:
    running.app[K.ACCOUNTS].add_user("agent-cg", PASSWORD, "agent", place="QH-CG")
    agent = await _signed_in(running, "agent")
    other = await _signed_in(running, "agent-cg")
    city = await _signed_in(running, "city")
    supervisor = await _signed_in(running, "supervisor")
    number = (await _post(agent, BASE, NEW))[1]["number"]
    assert (await _upload(agent, number, MATERIALS[0], jpeg()))[0] == 201
    before = _stored(running, number)

    refusals = [
        (agent, MATERIALS[1], b"\xff\xd8\xff" + b"\x00" * (64 * 1024), {}, 413, "too_large"),
        (agent, MATERIALS[1], b"GIF89a not a scan", {}, 415, "wrong_type"),
        (agent, MATERIALS[1], b"<html>%PDF-1.4", {}, 415, "wrong_type"),
        (agent, "营业执照", jpeg(), {}, 400, "unknown"),
        (agent, "", jpeg(), {}, 400, "required"),
        (agent, MATERIALS[1], jpeg(), {"page": "0"}, 400, "invalid"),
        (agent, MATERIALS[1], jpeg(), {"source": "fax"}, 400, "invalid"),
        (other, MATERIALS[1], jpeg(), {}, 403, "forbidden"),
        (city, MATERIALS[1], jpeg(), {}, 403, "forbidden"),
    ]
    for caller, material, data, query, status, code in refusals:
        got, body = await _upload(caller, number, material, data, **query)
        assert (got, body.get("code")) == (status, code), (material, query, body)
    assert (await _upload(supervisor, number, MATERIALS[1], jpeg()))[0] == 403
    assert (await _upload(agent, "QH-2026-999999", MATERIALS[1], jpeg()))[0] == 404
    assert _stored(running, number) == before
    assert not _case_dir(running, "QH-2026-999999").exists()
    assert (await _get(other, f"{BASE}/{number}/documents"))[0] == 403
    assert (await _get(other, f"{BASE}/{number}/documents/1"))[0] == 403
    assert (await _get(agent, f"{BASE}/{number}/documents/999"))[0] == 404


async def test_an_unreadable_page_blocks_the_approval(running: RunningServer) -> None:
    agent = await _signed_in(running, "agent")
    reviewer = await _signed_in(running, "reviewer")
    number = (await _post(agent, BASE, NEW))[1]["number"]
    ids = [(await _upload(agent, number, m, jpeg()))[1]["id"] for m in MATERIALS]
    assert (await _post(reviewer, f"{BASE}/{number}/transition", {"to": "in_review"}))[0] == 200
    path = f"{BASE}/{number}/documents/{ids[1]}/unreadable"
    assert (await _post(agent, path, {"reason": "模糊"}))[0] == 403  # reviewers judge pages
    status, body = await _post(reviewer, path, {"reason": ""})
    assert status == 400 and body["field"] == "reason"
    status, doc = await _post(reviewer, path, {"reason": "照片模糊，请重拍"})
    assert (
        status == 200 and doc["state"] == "unreadable" and doc["marked_by"] == "reviewer:reviewer"
    )
    status, case = await _get(reviewer, f"{BASE}/{number}")
    assert [c["captured"] for c in case["checklist"]] == [True, False, True]
    assert case["checklist"][1]["state"] == "missing"

    before = _stored(running, number)
    status, body = await _post(reviewer, f"{BASE}/{number}/approval", {"reasons": "ok"})
    assert (
        status == 409 and body["code"] == "materials_missing" and body["missing"] == [MATERIALS[1]]
    )
    assert _stored(running, number) == before
    assert (await _get(reviewer, f"{BASE}/{number}"))[1]["state"] == "in_review"

    # The recapture: a new page of the material, then the approval goes through.
    status, again = await _upload(agent, number, MATERIALS[1], jpeg(), source="camera")
    assert status == 201 and (again["file"], again["page"]) == ("documents/2-2.jpg", 2)
    status, done = await _post(reviewer, f"{BASE}/{number}/approval", {"reasons": "ok"})
    assert status == 200 and done["state"] == "approved"
    assert (await _upload(agent, number, MATERIALS[1], jpeg()))[1]["code"] == "wrong_state"
    assert verify_main([str(_case_dir(running, number))]) == 0


async def test_verify_catches_a_changed_byte_in_a_stored_page(
    running: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = await _signed_in(running, "agent")
    number = (await _post(agent, BASE, NEW))[1]["number"]
    doc = (await _upload(agent, number, MATERIALS[0], jpeg()))[1]
    page = _case_dir(running, number) / doc["file"]
    data = bytearray(page.read_bytes())
    data[-3] ^= 0xFF
    page.write_bytes(bytes(data))
    capsys.readouterr()
    assert verify_main([str(running.app[K.RECORDER].root)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("BROKEN: ") and "documents/1-1.jpg: sha256 does not match" in out


async def test_the_size_limit_comes_from_the_config(
    tmp_path: Path, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    """Above aiohttp's 1 MiB body default and up to the configured limit: accepted."""
    limit = 2 * 1024 * 1024
    cfg = make_config(tmp_path / "other", cases={"max_document_bytes": limit})
    srv = await start_server(cfg, accounts_template)
    try:
        agent = await _signed_in(srv, "agent")
        number = (await _post(agent, BASE, NEW))[1]["number"]
        big = b"%PDF-1.4 " + b"x" * (limit - 9)
        status, doc = await _upload(agent, number, MATERIALS[0], big)
        assert status == 201 and doc["size"] == limit, doc
        status, body = await _upload(agent, number, MATERIALS[0], big + b"x")
        assert status == 413 and body["code"] == "too_large" and str(limit) in body["message"]

        async def chunks() -> AsyncIterator[bytes]:  # chunked: no Content-Length to refuse by
            for _ in range(3):
                yield b"%PDF-1.4 " + b"y" * (1024 * 1024)

        session, headers = agent
        path = f"{BASE}/{number}/documents?material={quote(MATERIALS[1])}"
        async with session.post(path, data=chunks(), headers=headers) as resp:
            assert resp.status == 413 and (await resp.json())["code"] == "too_large"
        assert len(list((_case_dir(srv, number) / "documents").iterdir())) == 1
    finally:
        await srv.close()


async def test_a_kiosk_stores_stills_only_into_the_case_of_its_live_session(
    running: RunningServer,
) -> None:
    agent = await _signed_in(running, "agent")
    number = (await _post(agent, BASE, NEW))[1]["number"]
    unlinked = (await _post(agent, BASE, NEW))[1]["number"]
    token = running.kiosk_tokens["kiosk-1"]
    kiosk_http, _ = await running.http()
    kiosk: Caller = (kiosk_http, {"Authorization": f"Bearer {token}"})

    status, body = await _upload(kiosk, number, MATERIALS[0], jpeg())
    assert status == 403 and "not linked" in body["message"]  # no live session yet
    await running.pair("kiosk-1")
    [live] = running.app[K.SESSIONS].active()
    reviewer = Actor("reviewer", "reviewer", items=("SCJG-001",))
    await asyncio.to_thread(running.app[K.CASES].link_session, reviewer, number, live.id)
    before = _stored(running, unlinked)

    status, doc = await _upload(kiosk, number, MATERIALS[0], with_exif(jpeg()))
    assert status == 201 and doc["source"] == "camera" and doc["stored_by"].startswith("kiosk:")
    assert (await _upload(kiosk, unlinked, MATERIALS[0], jpeg()))[0] == 403
    status, body = await _upload(kiosk, number, MATERIALS[0], jpeg(), source="upload")
    assert status == 400 and body["code"] == "not_allowed"
    assert _stored(running, unlinked) == before
    async with kiosk_http.get(f"{BASE}/{number}/documents", headers=kiosk[1]) as resp:
        assert resp.status == 403  # a kiosk stores, it does not browse the case
