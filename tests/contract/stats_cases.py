"""A small hand-made set of cases for the statistics tests, with the figures
they must give worked out by hand (catalogue time zone Asia/Shanghai, UTC+8).

Local times below; the rows store UTC (local - 8 h). Period 2026-10-01 to
2026-10-31, today 2026-10-20.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from server.register.db import Register
from server.register.models import CaseRow

TODAY = date(2026, 10, 20)
PERIOD = (date(2026, 10, 1), date(2026, 10, 31))
RSJ_DEPT = "县人力资源和社会保障局"

# (item, place, mode, received local, received_on, deadline, state, decided local)
CASES = [
    # 1: approved two days and one hour after receipt, before its deadline.
    (
        "SCJG-001",
        "QH-LL",
        "video",
        "2026-10-12 09:30",
        "2026-10-12",
        "2026-10-15",
        "approved",
        "2026-10-14 10:30",
    ),
    # 2: approved late on its deadline day (local 23:30): within the limit.
    (
        "SCJG-001",
        "QH-LL-DC",
        "assisted",
        "2026-10-12 09:45",
        "2026-10-12",
        "2026-10-15",
        "approved",
        "2026-10-15 23:30",
    ),
    # 3: rejected at 00:30 local the day after its deadline (still the deadline day in
    #    UTC): over the limit.
    (
        "SCJG-001",
        "QH-CG",
        "video",
        "2026-10-13 14:00",
        "2026-10-13",
        "2026-10-15",
        "rejected",
        "2026-10-16 00:30",
    ),
    # 4: withdrawn: finished, neither within nor over.
    (
        "RSJ-001",
        "QH-COUNTY",
        "video",
        "2026-10-13 08:15",
        "2026-10-13",
        "2026-10-20",
        "withdrawn",
        None,
    ),
    # 5: in review past its deadline (10-19 < today 10-20): open overdue.
    (
        "RSJ-001",
        "QH-COUNTY",
        "video",
        "2026-10-14 09:10",
        "2026-10-14",
        "2026-10-19",
        "in_review",
        None,
    ),
    # 6: just received, deadline ahead.
    (
        "RSJ-002",
        "JZ-CITY",
        "forward",
        "2026-10-14 16:20",
        "2026-10-14",
        "2026-10-28",
        "received",
        None,
    ),
    # 7: received at 00:30 local on the first day of the period (the previous day in UTC).
    (
        "RSJ-002",
        "QH-LL",
        "video",
        "2026-10-01 00:30",
        "2026-10-01",
        "2026-10-12",
        "approved",
        "2026-10-09 12:00",
    ),
    # 8: received at 23:00 local on 09-30: before the period.
    (
        "SCJG-001",
        "QH-LL",
        "video",
        "2026-09-30 23:00",
        "2026-09-30",
        "2026-10-08",
        "approved",
        "2026-10-02 10:00",
    ),
]

# Worked out by hand from the list above.
SUMMARY = {
    "received": 7,  # 1-7
    "finished": 5,  # 1, 2, 3, 4, 7
    "approved": 3,  # 1, 2, 7
    "rejected": 1,  # 3
    "withdrawn": 1,  # 4
    "open": 2,  # 5, 6
    "within_limit": 3,  # 1, 2, 7
    "over_limit": 1,  # 3
    "open_overdue": 1,  # 5
}
# Handling seconds: 1: 2 d 1 h = 176400; 2: 3 d 13 h 45 min = 308700;
# 3: 2 d 10 h 30 min = 210600; 7: 8 d 11 h 30 min = 732600.
# Sorted 176400, 210600, 308700, 732600; median at rank 1.5 = 259650;
# p90 at rank 2.7 = 308700 + 0.7 * 423900 = 605430.
HANDLING = {"decided": 4, "median": 259650.0, "p90": 605430.0}
HOURS = {0: 1, 8: 1, 9: 3, 14: 1, 16: 1}  # 7; 4; 1, 2, 5; 3; 6
ITEMS = [  # most township demand first
    {
        "item": "SCJG-001",
        "received": 3,
        "at_township": 3,
        "at_county": 0,
        "at_city": 0,
        "approved": 2,
        "rejected": 1,
        "within_limit": 2,
        "over_limit": 1,
        "open_overdue": 0,
        "level": "county",
        "devolve_candidate": True,
    },
    {
        "item": "RSJ-002",
        "received": 2,
        "at_township": 1,
        "at_county": 0,
        "at_city": 1,
        "approved": 1,
        "rejected": 0,
        "within_limit": 1,
        "over_limit": 0,
        "open_overdue": 0,
        "level": "city",
        "devolve_candidate": True,
    },
    {
        "item": "RSJ-001",
        "received": 2,
        "at_township": 0,
        "at_county": 2,
        "at_city": 0,
        "approved": 0,
        "rejected": 0,
        "within_limit": 0,
        "over_limit": 0,
        "open_overdue": 1,
        "level": "county",
        "devolve_candidate": False,
    },
]


def utc(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=UTC) - timedelta(hours=8)


def insert_cases(register: Register) -> None:
    from server.catalogue import load_catalogue

    catalogue = load_catalogue()
    with register.write() as s:
        for n, (item, place, mode, recv, on, deadline, state, decided) in enumerate(CASES, start=1):
            at = utc(recv)
            s.add(
                CaseRow(
                    number=f"QH-2026-{n:06d}",
                    county=place.split("-")[0],
                    year=2026,
                    seq=n,
                    item=item,
                    department=catalogue.items[item].department.zh,
                    level=catalogue.items[item].level,
                    place=place,
                    mode=mode,
                    state=state,
                    applicant_name="测试",
                    applicant_id_last4="0000",
                    received_by="agent",
                    received_at=at,
                    received_on=date.fromisoformat(on),
                    deadline=date.fromisoformat(deadline),
                    updated_at=utc(decided) if decided else at,
                    decided_by="reviewer" if decided else None,
                    decided_at=utc(decided) if decided else None,
                )
            )


# Video sessions (recordings index): (id, item, place, started local, queue wait s,
# signature). The wait counts for the sessions started on the period's local days.
SESSIONS = [
    ("s1", "SCJG-001", "QH-LL", "2026-10-12 09:35", 120.0, "ok"),
    ("s2", "SCJG-001", "QH-CG", "2026-10-13 14:05", 600.0, "ok"),
    ("s3", "RSJ-001", "QH-COUNTY", "2026-10-13 08:20", 30.0, "ok"),
    ("s4", "RSJ-002", "QH-LL", "2026-10-01 00:10", 300.0, "ok"),  # 09-30 in UTC: in
    ("s5", "SCJG-001", "QH-LL", "2026-09-30 23:55", 9999.0, "ok"),  # before the period
    ("s6", "SCJG-001", "QH-LL", "2026-10-31 23:40", 900.0, "ok"),  # the last local day
    ("s7", "SCJG-001", "QH-LL", "2026-11-01 00:20", 5000.0, "ok"),  # 10-31 in UTC: out
    ("s8", "SCJG-001", "QH-LL", "2026-10-14 10:00", None, "ok"),  # no wait in its chain
    ("s9", "SCJG-001", "QH-LL", "2026-10-15 10:00", 50.0, "invalid"),  # not signed: out
]
# In: 30 (s3), 120 (s1), 300 (s4), 600 (s2), 900 (s6); n = 5.
# median: rank (5-1)/2 + 1 = 3 -> 300; p90: rank 4*0.9 + 1 = 4.6 -> 600 + 0.6*300 = 780.
WAIT = {"available": True, "sessions": 5, "median": 300.0, "p90": 780.0}
WAIT_FILTERED = [
    # SCJG-001: 120, 600, 900; p90 rank 2.8 -> 600 + 0.8*300 = 840.
    ({"item": "SCJG-001"}, {"sessions": 3, "median": 600.0, "p90": 840.0}),
    # QH-LL: 120, 300, 900; p90 rank 2.8 -> 300 + 0.8*600 = 780.
    ({"place": "QH-LL"}, {"sessions": 3, "median": 300.0, "p90": 780.0}),
    ({"department": RSJ_DEPT}, {"sessions": 1, "median": 30.0, "p90": 30.0}),  # RSJ-001: s3
    ({"mode": "video"}, {"sessions": 5, "median": 300.0, "p90": 780.0}),
    ({"mode": "forward"}, {"sessions": 0, "median": None, "p90": None}),  # video only
]

# Spot checks of the decided cases above: (case n, checklist or None = pending, verdict).
# Counted by the case's decision day (local): 8 was received before the period but
# decided in it (10-02); 3 was decided at 00:30 local on 10-16 (10-15 in UTC).
_ALL = ("materials_complete", "decision_justified", "time_limit_kept", "conduct")
SPOT_CHECKS = [
    (1, dict.fromkeys(_ALL, True), "pass"),
    (2, {**dict.fromkeys(_ALL, True), "conduct": False}, "fail"),
    (
        3,
        {**dict.fromkeys(_ALL, True), "materials_complete": False, "time_limit_kept": False},
        "fail",
    ),
    (7, None, None),
    (8, dict.fromkeys(_ALL, True), "pass"),
]
SPOT = {
    "drawn": 5,
    "reviewed": 4,  # 1, 2, 3, 8
    "pending": 1,  # 7
    "passed": 2,  # 1, 8
    "failed": 2,  # 2, 3
    "points": {
        "materials_complete": {"yes": 3, "no": 1},  # no: 3
        "decision_justified": {"yes": 4, "no": 0},
        "time_limit_kept": {"yes": 3, "no": 1},  # no: 3
        "conduct": {"yes": 3, "no": 1},  # no: 2
    },
}
SPOT_FILTERED = [  # (period, filters, drawn, reviewed, passed, failed)
    (PERIOD, {"item": "SCJG-001"}, 4, 4, 2, 2),  # 1, 2, 3, 8
    (PERIOD, {"place": "QH-LL"}, 3, 2, 2, 0),  # 1, 7, 8
    (PERIOD, {"department": "市人力资源和社会保障局"}, 1, 0, 0, 0),  # 7 (RSJ-002)
    (PERIOD, {"mode": "assisted"}, 1, 1, 0, 1),  # 2
    ((date(2026, 10, 10), date(2026, 10, 31)), {}, 3, 3, 1, 2),  # 1, 2, 3
    ((date(2026, 10, 10), date(2026, 10, 15)), {}, 2, 2, 1, 1),  # 1, 2 (3 is 10-16 local)
]


def insert_sessions(register: Register) -> None:
    from server.register.models import RecordingRow

    with register.write() as s:
        for sid, item, place, started, wait, signature in SESSIONS:
            at = utc(started)
            s.add(
                RecordingRow(
                    session_id=sid,
                    folder=f"{at:%Y/%m/%d}/{sid}",
                    day=at.date(),
                    item=item,
                    place=place,
                    started_at=at,
                    ended_at=at + timedelta(minutes=10),
                    queue_wait_s=wait,
                    signature=signature,
                    summary={"id": sid},
                    indexed_at=at + timedelta(minutes=11),
                )
            )


def insert_spot_checks(register: Register) -> None:
    from server.catalogue import load_catalogue
    from server.register.models import SpotCheckRow, SpotDrawRow

    catalogue = load_catalogue()
    with register.write() as s:
        draw = SpotDrawRow(
            week="2026-W42",
            seed="1",
            share=0.05,
            min_per_department=1,
            population={},
            drawn_by="supervisor:test",
            drawn_at=utc("2026-10-19 09:00"),
        )
        for n, checklist, verdict in SPOT_CHECKS:
            item = CASES[n - 1][0]
            draw.checks.append(
                SpotCheckRow(
                    number=f"QH-2026-{n:06d}",
                    department=catalogue.items[item].department.zh,
                    state="pending" if checklist is None else "reviewed",
                    checklist=checklist or {},
                    verdict=verdict,
                    reviewed_by=None if checklist is None else "supervisor:test",
                    reviewed_at=None if checklist is None else utc("2026-10-20 10:00"),
                )
            )
        s.add(draw)
