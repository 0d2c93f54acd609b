"""The recordings list (`GET /api/cases`) is a register query: the `recordings`
table is filled at finalisation and backfilled once from an archive written
without it; the list names the register case a session is linked to.

Uses the recorded sessions of test_archive_routes (fixtures imported from it):
each test's server starts on a copy of that archive with a register that has
never seen it.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import aiohttp
from sqlalchemy import delete, select

from recording.archive import marker_bytes
from recording.keys import ArchiveSigner
from server import appkeys as K
from server.config import Config
from server.register.case_types import Actor
from server.register.models import RecordingReviewer, RecordingRow
from tests.api.test_archive_routes import (  # fixtures, imported to be used here
    Case,
    Template,
    _get_json,
    config,
    mine,
    other,
    record_session,
    supervisor,
    template,
)
from tests.api.test_case_api import BASE, NEW, _post, _signed_in
from tests.conftest import RunningServer, start_server

__all__ = ["config", "mine", "other", "supervisor", "template"]


def _rows(running: RunningServer) -> dict[str, RecordingRow]:
    with running.app[K.REGISTER].read() as s:
        return {r.session_id: r for r in s.scalars(select(RecordingRow))}


async def _ids(session: aiohttp.ClientSession, query: str = "") -> list[str]:
    return [c["id"] for c in (await _get_json(session, f"/api/cases{query}"))["cases"]]


async def test_an_archive_without_the_index_is_backfilled_once(
    running: RunningServer, supervisor: aiohttp.ClientSession, mine: Case, other: Case
) -> None:
    rows = _rows(running)
    assert set(rows) == {mine.id, other.id}
    row = rows[mine.id]
    assert row.folder == "/".join(mine.folder.parts[-4:])
    assert (row.item, row.place, row.outcome, row.signature) == (
        "SCJG-001",
        "QH-CG",
        "completed",
        "ok",
    )
    assert row.kiosk and row.started_at and row.ended_at
    with running.app[K.REGISTER].read() as s:
        who = s.scalars(
            select(RecordingReviewer.account).where(RecordingReviewer.session_id == mine.id)
        ).all()
    assert who == ["reviewer"]
    assert await asyncio.to_thread(running.app[K.RECORDINGS].backfill) == 0  # idempotent
    assert len(_rows(running)) == 2
    types = [e["type"] for e in await running.system_events()]
    assert types.count("recordings.indexed") == 1

    # The list reads the table, not the tree: a row taken out is out of the list.
    assert await _ids(supervisor) == [other.id, mine.id]
    with running.app[K.REGISTER].write() as s:
        s.execute(delete(RecordingRow).where(RecordingRow.session_id == other.id))
    assert await _ids(supervisor) == [mine.id]
    assert (other.folder / "manifest.json").exists()


async def test_the_list_names_the_linked_register_case(
    running: RunningServer, supervisor: aiohttp.ClientSession, mine: Case, other: Case
) -> None:
    listed = (await _get_json(supervisor, "/api/cases"))["cases"]
    assert [c["case_number"] for c in listed] == [None, None]
    reviewer = await _signed_in(running, "reviewer")
    status, case = await _post(reviewer, BASE, {**NEW, "mode": "video"})
    assert status == 201, case
    actor = Actor("reviewer", "reviewer", place="QH-COUNTY", items=("SCJG-001",))
    service = running.app[K.CASES]
    await asyncio.to_thread(service.link_session, actor, case["number"], mine.id)
    listed = {c["id"]: c for c in (await _get_json(supervisor, "/api/cases"))["cases"]}
    assert listed[mine.id]["case_number"] == case["number"]
    assert listed[other.id]["case_number"] is None
    # The reviewer who handled it sees the same.
    mine_only = (await _get_json(reviewer[0], "/api/cases"))["cases"]
    assert [(c["id"], c["case_number"]) for c in mine_only] == [(mine.id, case["number"])]


async def test_a_finished_session_is_indexed_when_it_is_sealed(
    running: RunningServer, supervisor: aiohttp.ClientSession, mine: Case, other: Case
) -> None:
    folder = await record_session(running, "kiosk-3", "reviewer2", frames=30)
    row = _rows(running)[folder.name]
    assert (row.item, row.place, row.signature) == ("SCJG-001", "QH-CG", "ok")
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    [created] = [e for e in events if e["type"] == "session.created"]
    assert row.queue_wait_s == created["data"]["queue_wait_s"] >= 0
    assert await _ids(supervisor, "?reviewer=reviewer2") == [folder.name, other.id]


async def test_a_session_closed_by_crash_recovery_is_indexed_by_it(
    config: Config, accounts_template: tuple[Path, dict[str, str]], template: Template
) -> None:
    # "other" as a killed process leaves it: open marker (signed), no manifest.
    [folder] = (config.data_dir / "archive").glob(f"*/*/*/{template.other}")
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").unlink()
    (folder / "manifest.sig").unlink()
    opened = {"session_id": folder.name, "started_at": manifest["started_at"]}
    signer = ArchiveSigner.load_or_create(config.data_dir)
    sig = base64.b64encode(signer.sign(marker_bytes(opened))).decode()
    (folder / ".open").write_text(json.dumps({**opened, "sig": sig}))
    srv = await start_server(config, accounts_template)
    try:
        supervisor, _ = await srv.http("supervisor")
        listed = {c["id"]: c for c in (await _get_json(supervisor, "/api/cases"))["cases"]}
        assert listed[template.other]["outcome"] == "interrupted"
        assert listed[template.other]["signed"] is True
        events = await srv.system_events()
        # Indexed as recovery closed it; the start's backfill then found only "mine".
        assert [e["data"] for e in events if e["type"] == "recordings.indexed"] == [{"count": 1}]
    finally:
        await srv.close()
