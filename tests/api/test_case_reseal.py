"""Reseal at start: a crash between a case file's chain line and its manifest's
re-signature leaves `verify` broken; the next start re-signs it with a
`resealed` event, for register cases only, and never over tampering."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from recording.audit import AuditLog, event_hash, read_events
from recording.case_folder import CaseFolder
from recording.verify import verify_path
from server import appkeys as K
from server.config import Config
from tests.api.test_case_api import BASE, NEW, _post, _signed_in
from tests.conftest import RunningServer, start_server


async def _case_with_a_page(running: RunningServer) -> tuple[str, Path]:
    agent = await _signed_in(running, "agent")
    status, case = await _post(agent, BASE, NEW)
    assert status == 201, case
    number = case["number"]
    session, headers = agent
    async with session.post(
        f"{BASE}/{number}/documents",
        params={"material": case["checklist"][0]["code"]},
        data=b"%PDF-1.4 page one",
        headers=headers,
    ) as resp:
        assert resp.status == 201, await resp.text()
    folder = CaseFolder(running.app[K.RECORDER].root, number).folder
    return number, folder


def _problem(running: RunningServer, folder: Path) -> str | None:
    signer = running.app[K.RECORDER].signer
    assert signer is not None
    [result] = verify_path(folder, signer.public_key)
    return result.problem


def _crash_after_the_chain_line(folder: Path) -> None:
    """What a process killed between appending an event and re-signing leaves."""
    with AuditLog(folder / "events.jsonl") as log:
        log.append(
            "document.unreadable",
            "reviewer:reviewer",
            {"file": "documents/1-1.pdf", "material": "m", "page": 1, "reason": "看不清"},
        )


async def test_a_crash_before_the_re_signature_is_resealed_at_start(
    config: Config, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    running = await start_server(config, accounts_template)
    try:
        number, folder = await _case_with_a_page(running)
        _, other = await _case_with_a_page(running)
        assert _problem(running, folder) is None
        _crash_after_the_chain_line(folder)
        assert "added after the manifest was signed" in str(_problem(running, folder))
        # The other case's file: a crash mid-line (a torn last line).
        chain = other / "events.jsonl"
        chain.write_bytes(chain.read_bytes() + b'{"seq": 3, "type": "document.sto')
        assert _problem(running, other) is not None
        # A folder the register does not know, in the same state: not touched.
        stranger = folder.parent / "QH-2026-999999"
        shutil.copytree(folder, stranger)
        before = (stranger / "events.jsonl").read_bytes()
    finally:
        await running.close()

    again = await start_server(config, accounts_template, _copy=False)
    try:
        assert _problem(again, folder) is None
        events = read_events(folder / "events.jsonl")
        assert [e["type"] for e in events[-2:]] == ["document.unreadable", "resealed"]
        assert events[-1]["data"]["reason"] == "changes after the signature"
        assert events[-1]["data"]["unsigned"] == ["document.unreadable"]
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["events"]["lines"] == len(events)

        assert _problem(again, other) is None
        torn = read_events(other / "events.jsonl")[-1]
        assert torn["type"] == "resealed" and torn["data"]["torn_line"]["dropped_bytes"] > 0

        assert (stranger / "events.jsonl").read_bytes() == before
        assert _problem(again, stranger) is not None
        system = [e for e in await again.system_events() if e["type"] == "case.resealed"]
        assert sorted(e["data"]["case"] for e in system) == sorted([number, other.name])
    finally:
        await again.close()


async def test_a_tampered_case_file_is_not_resealed(
    config: Config, accounts_template: tuple[Path, dict[str, str]]
) -> None:
    running = await start_server(config, accounts_template)
    try:
        _, folder = await _case_with_a_page(running)
        # A swapped page with the chain rewritten to match it (hashes and links
        # recomputed) and the manifest removed, as if never signed: only the
        # register, which holds the hash taken at intake, can tell.
        (folder / "documents" / "1-1.pdf").write_bytes(b"%PDF-1.4 swapped")
        events = read_events(folder / "events.jsonl")
        assert events[1]["type"] == "document.stored"
        events[1]["data"]["sha256"] = "0" * 64
        prev = events[0]["prev"]
        for event in events:
            event["prev"] = prev
            event["hash"] = prev = event_hash(event)
        text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
        (folder / "events.jsonl").write_text(text)
        (folder / "manifest.json").unlink()
        (folder / "manifest.sig").unlink()
        before = (folder / "events.jsonl").read_bytes()
    finally:
        await running.close()

    again = await start_server(config, accounts_template, _copy=False)
    try:
        assert (folder / "events.jsonl").read_bytes() == before
        assert not (folder / "manifest.json").exists()
        assert _problem(again, folder) is not None
        assert not [e for e in await again.system_events() if e["type"] == "case.resealed"]
    finally:
        await again.close()
