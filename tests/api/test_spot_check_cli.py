"""`remote-window spot-check draw|redraw` as an operator runs it (real subprocesses):
the draw prints and records its seed, a week is drawn once, the redraw from the
recorded seed matches."""

from __future__ import annotations

from pathlib import Path

from server.register.db import Register
from tests.api.test_cli import _run
from tests.conftest import system_events
from tests.contract.case_helpers import REVIEWER, make_cases

WEEK = "2026-W40"  # the contract helpers' clock: 2026-09-30


def test_draw_and_redraw_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    register = Register(f"sqlite:///{data / 'register.sqlite3'}")
    register.prepare()
    cases = make_cases(register, tmp_path / "helpers")
    numbers = []
    for _ in range(12):
        number = cases.create(item="SCJG-001", mode="video").number
        cases.service.transition(REVIEWER, number, "in_review")
        cases.service.transition(REVIEWER, number, "rejected", "材料不全")
        numbers.append(number)
    cases.audit.close()
    register.close()

    done = _run("spot-check", "draw", "--week", WEEK, "--seed", "99", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    assert f"week {WEEK} seed 99" in done.stdout
    assert "县市场监督管理局: 1 of 12" in done.stdout
    drawn = [line.split("\t")[0] for line in done.stdout.splitlines() if "\t" in line]
    assert len(drawn) == 1 and drawn[0] in numbers

    again = _run("spot-check", "draw", "--week", WEEK, "--data-dir", str(data))
    assert again.returncode == 2 and "drawn already" in again.stderr
    redo = _run("spot-check", "redraw", "--week", WEEK, "--data-dir", str(data))
    assert redo.returncode == 0, redo.stderr
    assert "SAME" in redo.stdout and drawn[0] in redo.stdout
    events = system_events(data / "archive")
    [event] = [e for e in events if e["type"] == "spot_check.drawn"]
    assert event["data"]["seed"] == "99" and event["data"]["algorithm"] == "sha256-rank/1"
    assert [e["type"] for e in events].count("spot_check.redrawn") == 1
    bad = _run("spot-check", "draw", "--week", "2026-49", "--data-dir", str(data))
    assert bad.returncode == 2 and "week" in bad.stderr
