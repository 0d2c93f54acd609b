"""The hash-chained audit log: appends, tamper detection, torn lines, daily system logs."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recording.audit import AuditError, AuditLog, SystemAuditLog, read_events, verify_chain
from recording.canonical import ZERO_HASH, canonical_json, iso_utc, sha256_file, sha256_hex

T0 = datetime(2026, 3, 5, 8, 9, 10, 123456, tzinfo=UTC)


class FakeClock:
    """A settable clock for day boundaries."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_log(path: Path, n: int = 6) -> list[dict]:
    with AuditLog(path) as log:
        return [log.append("test.event", f"user:{i}", {"n": i, "名": "张三"}) for i in range(n)]


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_canonical_json_and_hashes(tmp_path: Path) -> None:
    assert canonical_json({"b": 1, "a": [1, "窗口"]}) == '{"a":[1,"窗口"],"b":1}'.encode()
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    path = tmp_path / "f"
    path.write_bytes(b"x" * 3_000_000)
    assert sha256_file(path, chunk_size=65536) == (sha256_hex(b"x" * 3_000_000), 3_000_000)
    assert iso_utc(T0) == "2026-03-05T08:09:10.123Z"


def test_lines_are_chained_canonical_json(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    events = make_log(path)
    raw = lines(path)
    assert len(raw) == 6
    assert events[0]["prev"] == ZERO_HASH
    for n, (event, line) in enumerate(zip(events, raw, strict=True), start=1):
        assert line == canonical_json(event) + b"\n"
        assert event["seq"] == n
        assert event["time"].endswith("Z") and len(event["time"]) == 24
        body = {k: v for k, v in event.items() if k != "hash"}
        assert event["hash"] == sha256_hex(canonical_json(body))
        if n > 1:
            assert event["prev"] == events[n - 2]["hash"]
    assert read_events(path) == events
    assert verify_chain(path) is None


def test_reopening_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    first = make_log(path, 3)
    with AuditLog(path) as log:
        assert (log.seq, log.last_hash, log.dropped) == (3, first[-1]["hash"], b"")
        event = log.append("again", None)
    assert (event["seq"], event["prev"], event["data"]) == (4, first[-1]["hash"], {})
    assert verify_chain(path) is None


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("edit", "line 3: hash does not match its content"),
        ("edit_rehash", "line 4: prev does not match line 3"),
        ("delete_middle", "line 3: sequence 4 where 3 expected"),
        ("swap", "line 2: sequence 3 where 2 expected"),
        ("delete_first", "line 1: sequence 2 where 1 expected"),
        ("garbage", "line 5: not valid JSON"),
        ("torn", "line 6: incomplete last line"),
    ],
)
def test_verify_chain_names_the_first_broken_line(
    tmp_path: Path, tamper: str, problem: str
) -> None:
    path = tmp_path / "events.jsonl"
    make_log(path)
    raw = lines(path)
    if tamper == "edit":
        raw[2] = raw[2].replace(b'"n":2', b'"n":7')
    elif tamper == "edit_rehash":
        event = json.loads(raw[2])
        event["data"]["n"] = 7
        event["hash"] = sha256_hex(canonical_json({k: v for k, v in event.items() if k != "hash"}))
        raw[2] = canonical_json(event) + b"\n"
    elif tamper == "delete_middle":
        del raw[2]
    elif tamper == "swap":
        raw[1], raw[2] = raw[2], raw[1]
    elif tamper == "delete_first":
        del raw[0]
    elif tamper == "garbage":
        raw[4] = b"{not json\n"
    elif tamper == "torn":
        raw[5] = raw[5][:40]
    path.write_bytes(b"".join(raw))
    assert verify_chain(path) == problem


def test_a_deleted_last_line_leaves_a_valid_chain(tmp_path: Path) -> None:
    """Only the manifest's line count can catch this (see test_verify)."""
    path = tmp_path / "events.jsonl"
    make_log(path)
    path.write_bytes(b"".join(lines(path)[:-1]))
    assert verify_chain(path) is None


@pytest.mark.parametrize("torn", [b'{"seq":7,"time":"2026-03-0', b"\x00\x00\x00\x00\n"])
def test_a_torn_last_line_is_dropped_on_reopen(tmp_path: Path, torn: bytes) -> None:
    path = tmp_path / "events.jsonl"
    events = make_log(path)
    intact = path.read_bytes()
    with open(path, "ab") as f:
        f.write(torn)
    assert verify_chain(path) is not None
    with AuditLog(path) as log:
        assert log.dropped == torn
        assert path.read_bytes() == intact
        event = log.append("recovered", None, {"dropped_bytes": len(log.dropped)})
    assert (event["seq"], event["prev"]) == (7, events[-1]["hash"])
    assert verify_chain(path) is None


def test_a_corrupt_line_before_the_last_stops_the_open(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    make_log(path, 3)
    path.write_bytes(path.read_bytes() + b'{"seq": "x"}\n')
    with pytest.raises(AuditError, match="line 4"):
        AuditLog(path)


def test_threads_share_one_log(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with AuditLog(path) as log:

        def work(k: int) -> None:
            for i in range(25):
                log.append("t", f"thread:{k}", {"i": i})

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(read_events(path)) == 100
    assert verify_chain(path) is None


def test_appending_after_close_fails(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "events.jsonl")
    log.close()
    with pytest.raises(ValueError, match="closed"):
        log.append("late", None)


def test_system_log_chains_across_days(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    system = SystemAuditLog(tmp_path, clock=clock)
    a = system.append("staff.login", "admin:li", {})
    clock.now = T0 + timedelta(hours=1)
    b = system.append("recording.viewed", "supervisor:zhao", {"session": "s1"})
    clock.now = T0 + timedelta(days=2)
    c = system.append("staff.login", "admin:li", {})
    system.close()
    folder = tmp_path / "system"
    assert sorted(p.name for p in folder.iterdir()) == ["2026-03-05.jsonl", "2026-03-07.jsonl"]
    assert (a["prev"], b["prev"], c["prev"], c["seq"]) == (ZERO_HASH, a["hash"], b["hash"], 1)
    assert verify_chain(folder / "2026-03-07.jsonl", first_prev=b["hash"]) is None

    # A new process on a later day links to the newest earlier file.
    clock.now = T0 + timedelta(days=3)
    system = SystemAuditLog(tmp_path, clock=clock)
    d = system.append("staff.logout", "admin:li", {})
    # The clock stepping back over midnight does not reopen an older day.
    clock.now = T0 + timedelta(days=1)
    e = system.append("late", None, {})
    system.close()
    assert (d["prev"], d["seq"], e["prev"], e["seq"]) == (c["hash"], 1, d["hash"], 2)
    assert not (folder / "2026-03-06.jsonl").exists()


def test_system_log_drops_and_records_a_torn_line(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    system = SystemAuditLog(tmp_path, clock=clock)
    a = system.append("one", None, {})
    system.close()
    day = tmp_path / "system" / "2026-03-05.jsonl"
    with open(day, "ab") as f:
        f.write(b'{"seq":2,"ti')
    clock.now = T0 + timedelta(days=1)  # the next day: the torn tail is in yesterday's file
    system = SystemAuditLog(tmp_path, clock=clock)
    b = system.append("two", None, {})
    system.close()
    events = read_events(tmp_path / "system" / "2026-03-06.jsonl")
    assert events[0]["type"] == "recovered"
    assert events[0]["prev"] == a["hash"]
    assert events[0]["data"] == {
        "file": "2026-03-05.jsonl",
        "dropped_bytes": 12,
        "dropped_sha256": sha256_hex(b'{"seq":2,"ti'),
    }
    assert b["seq"] == 2
    assert verify_chain(day) is None
