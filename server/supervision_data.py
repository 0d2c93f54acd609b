"""The supervisors' live dashboard (审管联动): one snapshot of the service now.

`build_snapshot` reads everything the dashboard shows in one go:

- queues per service item, split by the place the applicants wait at
  (waiting, priority, away, longest wait in seconds) and the item's reviewers
  online (the Store: shared by every process);
- the video sessions not yet ended, of every process (item, place, reviewer,
  start, duration): never the applicant's name or ID number;
- open cases near (due today or the next working day) or past their deadline,
  per department, and the worst few (the register);
- follow-ups (整改) of bad ratings not yet closed, and of those overdue.

The register part blocks (SQL): it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from server.case_metrics import departments
from server.catalogue import Catalogue
from server.register.case_deadlines import OPEN_STATES, open_tallies
from server.register.case_queries import CaseFilter, list_cases
from server.register.case_types import Actor
from server.register.cases import CaseService
from server.register.followups import FollowUpService
from server.session_manager import SessionManager
from server.store import Store, Ticket
from server.video_session import State

# The dashboard reads every case, as a supervisor may (server/register/case_types.py).
READER = Actor("supervision-dashboard", "supervisor")


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def _names(catalogue: Catalogue, place: str) -> dict[str, str]:
    found = catalogue.places.get(place)
    return found.names.to_json() if found is not None else {"zh": place, "en": place}


def _waits(tickets: list[Ticket], now: float) -> dict[str, int]:
    return {
        "waiting": len(tickets),
        "priority_waiting": sum(1 for t in tickets if t.priority),
        "away": sum(1 for t in tickets if not t.connected),
        "longest_wait_s": int(now - min(t.joined_at for t in tickets)) if tickets else 0,
    }


async def queue_rows(store: Store, catalogue: Catalogue, now: float) -> list[dict[str, Any]]:
    """One row per video item's queue (busiest first), with a row per place
    someone waits at (most waiting first)."""
    rows = []
    for item in catalogue.items.values():
        if "video" not in item.modes:
            continue
        waiting = await store.waiting(item.queue_key)
        by_place: dict[str, list[Ticket]] = defaultdict(list)
        for t in waiting:
            by_place[t.place].append(t)
        places = [
            {"place": p, "names": _names(catalogue, p), **_waits(ts, now)}
            for p, ts in sorted(by_place.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ]
        online = await store.set_members(f"desk:online:{item.queue_key}")
        rows.append(
            {
                "queue": item.queue_key,
                "item": item.code,
                "names": item.names.to_json(),
                "department": item.department.to_json(),
                "level": item.level,
                "reviewers_online": len(online),
                "_reviewers": sorted(online),  # for a narrowed view's total (supervision_scope)
                **_waits(waiting, now),
                "places": places,
            }
        )
    rows.sort(key=lambda r: -r["waiting"])  # the busiest first; else catalogue order
    return rows


def local_sessions(sessions: SessionManager) -> list[dict[str, Any]]:
    """This process's sessions not yet ended, as plain data (shared with the other
    processes through the Store: server/supervision.py)."""
    return [
        {
            "session_id": s.id,
            "item": s.item,
            "place": s.place,
            "reviewer": s.reviewer.name,
            "applicant_role": s.applicant.role,  # kiosk or agent; never who
            "ticket_number": s.ticket_number,
            "state": s.state.value,
            "created_at": s.created_at,
            "live_at": s.live_at,
            "observers": len(s.observers),
        }
        for s in sessions.active()
        if s.state != State.ENDED
    ]


def session_rows(
    raw: list[dict[str, Any]], catalogue: Catalogue, now: float
) -> list[dict[str, Any]]:
    """The dashboard's rows of sessions (from every process), longest running first."""
    rows = []
    for s in raw:
        item = catalogue.items.get(s["item"])
        started = s["live_at"] or s["created_at"]
        rows.append(
            {
                **s,
                "names": item.names.to_json() if item else {"zh": s["item"], "en": s["item"]},
                "department": item.department.zh if item else None,
                "place_names": _names(catalogue, s["place"]),
                "created_at": _iso(s["created_at"]),
                "live_at": _iso(s["live_at"]),
                "duration_s": int(max(0.0, now - started)),
            }
        )
    rows.sort(key=lambda r: (-r["duration_s"], r["session_id"]))
    return rows


def register_part(
    cases: CaseService, followups: FollowUpService, catalogue: Catalogue, worst: int
) -> dict[str, Any]:
    """Blocking (SQL): deadlines per department, the worst few cases, follow-ups."""
    per_dept: dict[str, dict[str, Any]] = {}
    for t in open_tallies(cases, departments(catalogue)):
        row = per_dept.setdefault(
            t.department, {"department": t.department, "open": 0, "overdue": 0, "due_soon": 0}
        )
        row["open"] += t.open
        row["overdue"] += t.overdue
        row["due_soon"] += t.due_soon
    # Enough for every department's worst few, so a narrowed view has its own.
    pool = max(1, worst) * max(1, len(per_dept))
    nearest = list_cases(cases, READER, CaseFilter(state=OPEN_STATES, limit=pool))
    items = catalogue.items
    worst_rows = [
        {
            "number": c.number,
            "item": c.item,
            "names": items[c.item].names.to_json() if c.item in items else None,
            "department": c.department,
            "place": c.place,
            "state": c.state,
            "deadline": c.deadline.isoformat(),
            "remaining_working_days": c.remaining_working_days,
            "overdue": c.overdue,
        }
        for c in nearest
        if c.overdue or c.due_soon
    ]
    depts = sorted(
        per_dept.values(), key=lambda d: (-d["overdue"], -d["due_soon"], d["department"])
    )
    return {
        "cases": {
            "overdue": sum(d["overdue"] for d in depts),
            "due_soon": sum(d["due_soon"] for d in depts),
            "departments": depts,
            "worst": worst_rows[: max(1, worst)],
        },
        "followups": followups.counts(),
        # Private (supervision_scope.narrow drops them): a narrowed view's parts.
        "_worst_pool": worst_rows,
        "_worst": max(1, worst),
        "_followups_by_department": followups.counts_by_department(),
    }


async def build_snapshot(
    store: Store,
    catalogue: Catalogue,
    sessions: list[dict[str, Any]],
    cases: CaseService,
    followups: FollowUpService,
    worst: int,
    clock: Any = time.time,
) -> dict[str, Any]:
    """Everything the dashboard shows, as JSON-ready data."""
    now = clock()
    queues = await queue_rows(store, catalogue, now)
    live = session_rows(sessions, catalogue, now)
    reviewers = {r for q in queues for r in q["_reviewers"]}
    register = await asyncio.to_thread(register_part, cases, followups, catalogue, worst)
    return {
        "at": _iso(now),
        "totals": {
            "waiting": sum(q["waiting"] for q in queues),
            "longest_wait_s": max((q["longest_wait_s"] for q in queues), default=0),
            "reviewers_online": len(reviewers),
            "sessions": len(live),
            "cases_overdue": register["cases"]["overdue"],
            "cases_due_soon": register["cases"]["due_soon"],
            "followups_open": register["followups"]["open"],
            "followups_overdue": register["followups"]["overdue"],
        },
        "queues": queues,
        "sessions": live,
        **register,
    }
