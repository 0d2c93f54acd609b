"""The archive refuses what it did not write: symlinks anywhere below the
archive root, and finalised case folders without a valid signature; media
downloads are audited however their Range is spelled.

Uses the recorded sessions of test_archive_routes (fixtures imported from it).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import aiohttp
import pytest

from recording.audit import read_events
from server.config import Config
from tests.api.test_archive_routes import (  # fixtures, imported to be used here
    Case,
    Template,
    _get_json,
    _raw_get,
    config,
    mine,
    other,
    supervisor,
    template,
)
from tests.conftest import RunningServer, start_server

__all__ = ["config", "mine", "other", "supervisor", "template"]
SECRET = b"outside-the-archive-secret"


def _downloads(case: Case) -> list[dict]:
    signed = case.manifest["events"]["lines"]
    return [e for e in read_events(case.folder / "events.jsonl")[signed:]]


# -- ranges and the download audit ------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        None,
        "bytes=0-",
        "bytes=00-",
        "bytes=000-",
        "bytes=-{size}",
        "bytes=-999999999",
        "BYTES=0-",
        "bytes=0-{last}",
        "bytes=0-999999999999",
    ],
)
async def test_every_whole_file_delivery_is_audited_once(
    running: RunningServer, mine: Case, spelling: str | None
) -> None:
    path = mine.media("video")
    data = (mine.folder / path).read_bytes()
    headers = {}
    if spelling is not None:
        headers["Range"] = spelling.format(size=len(data), last=len(data) - 1)
    session, _ = await running.http("supervisor")
    for _ in range(2):  # a repeat by the same web session is not a new download
        async with session.get(f"/api/cases/{mine.id}/{path}", headers=headers) as resp:
            assert resp.status == (200 if spelling is None else 206)
            assert await resp.read() == data
            if spelling is not None:
                assert resp.headers["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    [event] = _downloads(mine)
    assert event["type"] == "access.downloaded" and event["actor"] == "supervisor"
    assert event["data"]["file"] == path
    assert event["data"]["whole"] is True
    assert event["data"]["bytes"] == f"0-{len(data) - 1}/{len(data)}"


@pytest.mark.parametrize(
    "spelling",
    [
        "bytes = 0-",
        "bytes=0 -",
        "bytes=-0",
        "bytes=0-1,5-9",
        "items=0-",
        "bytes=5-2",
        "bytes={size}-",
        "bytes=",
        "bytes=-",
        "bytes=0x0-",
    ],
)
async def test_a_refused_range_is_416_and_not_a_download(
    running: RunningServer, mine: Case, spelling: str
) -> None:
    path = mine.media("video")
    size = (mine.folder / path).stat().st_size
    session, _ = await running.http("supervisor")
    headers = {"Range": spelling.format(size=size)}
    async with session.get(f"/api/cases/{mine.id}/{path}", headers=headers) as resp:
        assert resp.status == 416
        assert resp.headers["Content-Range"] == f"bytes */{size}"
        assert b"\x1a\x45\xdf\xa3" not in await resp.read()
    assert _downloads(mine) == []


async def test_partial_ranges_keep_their_meaning(running: RunningServer, mine: Case) -> None:
    path = mine.media("video")
    data = (mine.folder / path).read_bytes()
    session, _ = await running.http("supervisor")
    url = f"/api/cases/{mine.id}/{path}"
    # Seeking into the middle and a HEAD deliver no first byte: nothing logged.
    for ranges in ("bytes=200-", "bytes=1000-1999", "bytes=-100"):
        async with session.get(url, headers={"Range": ranges}) as resp:
            assert resp.status == 206
    async with session.head(url) as resp:
        assert resp.status == 200 and int(resp.headers["Content-Length"]) == len(data)
    assert _downloads(mine) == []
    # A piece from the first byte is logged as a partial download, then the whole
    # file (delivered later by the same session) once more, as whole.
    async with session.get(url, headers={"Range": "bytes=0-99"}) as resp:
        assert resp.status == 206 and await resp.read() == data[:100]
    async with session.get(url, headers={"Range": "bytes=0-9"}) as resp:
        assert resp.status == 206
    async with session.get(url) as resp:
        assert resp.status == 200 and await resp.read() == data
    events = _downloads(mine)
    assert [(e["data"]["bytes"], e["data"]["whole"]) for e in events] == [
        (f"0-99/{len(data)}", False),
        (f"0-{len(data) - 1}/{len(data)}", True),
    ]


# -- symlinks ------------------------------------------------------------------------


async def _refused(
    supervisor: aiohttp.ClientSession, running: RunningServer, case: Case, paths: list[str]
) -> None:
    # The list is the register's index: the first serve finds the folder refused
    # (a link) and takes it out of the list (a restart's backfill leaves it out too).
    await _get_json(supervisor, f"/api/cases/{case.id}", status=404)
    listed = (await _get_json(supervisor, "/api/cases"))["cases"]
    assert case.id not in [c["id"] for c in listed]
    cookie = supervisor.cookie_jar.filter_cookies(running.server.make_url("/"))
    for path in paths:
        status, body = await _raw_get(running, path, cookie["rw_session"].value)
        assert status == 404, (path, status)
        assert SECRET not in body


def _outside(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_bytes(SECRET)
    return folder


async def test_a_media_folder_linked_outside_is_refused(
    running: RunningServer, supervisor: aiohttp.ClientSession, mine: Case, tmp_path: Path
) -> None:
    names = [Path(mine.media(k)).name for k in ("video", "audio")]
    outside = _outside(tmp_path, names)
    shutil.rmtree(mine.folder / "media")
    (mine.folder / "media").symlink_to(outside, target_is_directory=True)
    await _refused(supervisor, running, mine, [f"/api/cases/{mine.id}/media/{n}" for n in names])


async def test_a_media_file_linked_outside_is_refused(
    running: RunningServer, supervisor: aiohttp.ClientSession, mine: Case, tmp_path: Path
) -> None:
    name = Path(mine.media("video")).name
    outside = _outside(tmp_path, [name])
    (mine.folder / "media" / name).unlink()
    (mine.folder / "media" / name).symlink_to(outside / name)
    await _refused(supervisor, running, mine, [f"/api/cases/{mine.id}/media/{name}"])


async def test_a_case_folder_linked_from_outside_is_refused(
    running: RunningServer, supervisor: aiohttp.ClientSession, other: Case, tmp_path: Path
) -> None:
    # A whole, validly signed case moved out and linked back in.
    moved = tmp_path / "moved" / other.id
    shutil.move(other.folder, moved)
    other.folder.symlink_to(moved, target_is_directory=True)
    await _refused(supervisor, running, other, [f"/api/cases/{other.id}/{other.media()}"])


async def test_a_linked_manifest_is_refused(
    running: RunningServer, supervisor: aiohttp.ClientSession, mine: Case, tmp_path: Path
) -> None:
    copy = tmp_path / "manifest.json"
    shutil.copyfile(mine.folder / "manifest.json", copy)
    (mine.folder / "manifest.json").unlink()
    (mine.folder / "manifest.json").symlink_to(copy)
    await _refused(supervisor, running, mine, [f"/api/cases/{mine.id}/{mine.media()}"])


# -- unsigned cases -------------------------------------------------------------------


def _forge(case: Case, signature: bytes | None) -> Case:
    """A copy of a case under a new id, its manifest rewritten, signed or not."""
    forged_id = case.id[:-8] + "0badc0de"
    folder = case.folder.parent / forged_id
    shutil.copytree(case.folder, folder)
    manifest = dict(case.manifest, session_id=forged_id)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "manifest.sig").unlink()
    if signature is not None:
        (folder / "manifest.sig").write_bytes(signature)
    return Case(forged_id, folder, manifest)


@pytest.mark.parametrize("signature", [None, b"bm90IGEgc2lnbmF0dXJl\n", b"not base64 !"])
async def test_an_unsigned_case_is_flagged_for_supervisors_and_not_served(
    config: Config,
    accounts_template: tuple[Path, dict[str, str]],
    template: Template,
    signature: bytes | None,
) -> None:
    # Planted before the server starts: the list is the register's index, and
    # the start's backfill indexes the folder with the signature state it finds.
    [folder] = (config.data_dir / "archive").glob(f"*/*/*/{template.mine}")
    mine = Case(template.mine, folder, json.loads((folder / "manifest.json").read_text()))
    forged = _forge(mine, signature)
    running = await start_server(config, accounts_template)
    try:
        await _check_flagged(running, mine, forged, signature)
    finally:
        await running.close()


async def _check_flagged(
    running: RunningServer, mine: Case, forged: Case, signature: bytes | None
) -> None:
    supervisor, _ = await running.http("supervisor")
    listed = {c["id"]: c for c in (await _get_json(supervisor, "/api/cases"))["cases"]}
    assert listed[mine.id]["signed"] is True and "signature" not in listed[mine.id]
    flagged = listed[forged.id]
    assert flagged["signed"] is False
    assert flagged["signature"] == ("missing" if signature is None else "invalid")
    # The reviewer named in the forged manifest does not get it at all.
    reviewer, _ = await running.http("reviewer")
    assert forged.id not in [c["id"] for c in (await _get_json(reviewer, "/api/cases"))["cases"]]
    for session in (supervisor, reviewer):
        body = await _get_json(session, f"/api/cases/{forged.id}", status=409)
        assert json.loads(body) == {"error": "unsigned"}
        async with session.get(f"/api/cases/{forged.id}/{forged.media()}") as resp:
            assert resp.status == 409
            assert b"\x1a\x45\xdf\xa3" not in await resp.read()
    async with supervisor.get(f"/cases/{forged.id}", headers={"Accept": "text/html"}) as resp:
        assert resp.status == 409
        assert 'data-error="unsigned"' in await resp.text()
    # Nothing was appended to the forged folder's chain.
    signed = mine.manifest["events"]["lines"]
    assert len(read_events(forged.folder / "events.jsonl")) == signed


# -- planted open folders -------------------------------------------------------------


async def test_a_planted_open_folder_is_not_signed_at_the_next_start(
    config: Config, accounts_template: tuple[Path, dict[str, str]], template: Template
) -> None:
    [source] = (config.data_dir / "archive").glob(f"*/*/*/{template.mine}")
    planted = []
    for n, sig in enumerate((None, "bm90IGEgc2lnbmF0dXJl")):
        forged_id = template.mine[:-8] + f"0badc0d{n}"
        folder = source.parent / forged_id
        shutil.copytree(source, folder)
        (folder / "manifest.json").unlink()
        (folder / "manifest.sig").unlink()
        marker = {"session_id": forged_id, "started_at": "2026-01-01T00:00:00.000Z"}
        if sig is not None:
            marker["sig"] = sig
        (folder / ".open").write_text(json.dumps(marker))
        planted.append(folder)
    srv = await start_server(config, accounts_template)
    try:
        session, _ = await srv.http("supervisor")
        listed = [c["id"] for c in (await _get_json(session, "/api/cases"))["cases"]]
        assert template.mine in listed
        for folder in planted:
            assert (folder / ".open").exists()  # left open: not recovered, not signed
            assert not (folder / "manifest.sig").exists()
            assert folder.name not in listed
            await _get_json(session, f"/api/cases/{folder.name}", status=404)
    finally:
        await srv.close()
