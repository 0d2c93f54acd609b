"""Deadline counts (server/register/case_deadlines.py) on SQLite and PostgreSQL:
the inbox's counts and /metrics' tallies say what each row's flags say."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from server.register.case_deadlines import inbox, open_tallies
from server.register.db import Register
from tests.contract.case_helpers import AGENT, CITY, OTHER_AGENT, REVIEWER, SUPERVISOR, make_cases


def test_counts_and_tallies_match_the_flags(register: Register, tmp_path: Path) -> None:
    cases = make_cases(register, tmp_path)  # Wed 30 Sep 2026
    a = cases.create(AGENT)  # SCJG-001, 3 working days: Sat 10 Oct (调休)
    b = cases.create(REVIEWER, item="RSJ-001", mode="video")  # 1 day: Thu 8 Oct
    cases.create(CITY, item="RSJ-002", mode="video")  # 5 days: Tue 13 Oct
    cases.create(AGENT, item="MZ-001")  # 30 days
    e = cases.create(OTHER_AGENT, item="YB-001")
    cases.service.transition(OTHER_AGENT, e.number, "withdrawn", "申请人撤回")
    cases.service.transition(REVIEWER, b.number, "in_review")
    try:
        for day, overdue, soon in ((9, 1, 1), (11, 1, 1), (12, 2, 1)):
            cases.clock.now = datetime(2026, 10, day, 3, 0, tzinfo=UTC)
            found, counts = inbox(cases.service, SUPERVISOR)
            assert (
                counts
                == {
                    "open": 4,
                    "overdue": sum(c.overdue for c in found),
                    "due_soon": sum(c.due_soon for c in found),
                }
                == {"open": 4, "overdue": overdue, "due_soon": soon}
            ), day
            tallies = open_tallies(cases.service, ["县民政局"])
            assert sum(t.open for t in tallies) == 4
            assert sum(t.overdue for t in tallies) == overdue
            assert sum(t.due_soon for t in tallies) == soon
            assert {(t.department, t.state) for t in tallies if t.open == 0} >= {
                ("县民政局", "in_review")  # named departments come with zeros
            }
        found, counts = inbox(cases.service, REVIEWER)  # Mon 12 Oct, SCJG-001 and RSJ-001
        assert [c.number for c in found] == [b.number, a.number]
        assert counts == {"open": 2, "overdue": 2, "due_soon": 0}
        assert [
            t.state for t in open_tallies(cases.service, []) if t.department == b.summary.department
        ]
    finally:
        cases.audit.close()
