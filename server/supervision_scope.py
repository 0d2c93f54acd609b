"""What each watcher of the dashboard may see: a supervisor bound to service
items supervises their departments only; a supervisor with no items and a
system admin see everything (the same rule as follow-ups:
`FollowUpService.covers`).

The snapshot is built once for every watcher (`supervision_data.build_snapshot`)
with a few private keys (leading underscore: the reviewers online per queue,
follow-ups per department) that `narrow` uses to recompute the totals of a
narrowed view; `narrow` always drops them, so they never reach a socket.
"""

from __future__ import annotations

from typing import Any

from server.auth import Identity
from server.catalogue import Catalogue

Scope = frozenset[str] | None  # department names (zh, as the register stores them); None: all


def scope_of(ident: Identity, catalogue: Catalogue) -> Scope:
    """The departments a watcher supervises, or None for everything."""
    if ident.role != "supervisor" or not ident.items:
        return None
    items = catalogue.items
    return frozenset(items[i].department.zh for i in ident.items if i in items)


def in_scope(scope: Scope, department: str | None) -> bool:
    return scope is None or department in scope


def _public(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith("_")}


def narrow(full: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """The dashboard as `scope` may see it, totals recomputed from what is left."""
    queues = [_public(q) for q in full["queues"] if in_scope(scope, q["department"]["zh"])]
    sessions = [s for s in full["sessions"] if in_scope(scope, s.get("department"))]
    if scope is None:
        return {
            **_public(full),
            "queues": queues,
            "sessions": sessions,
            "cases": full["cases"],
            "totals": full["totals"],
        }
    kept_queues = [q for q in full["queues"] if in_scope(scope, q["department"]["zh"])]
    reviewers = {r for q in kept_queues for r in q.get("_reviewers", ())}
    depts = [d for d in full["cases"]["departments"] if d["department"] in scope]
    worst = [c for c in full.get("_worst_pool", full["cases"]["worst"]) if c["department"] in scope]
    by_dept = full.get("_followups_by_department", {})
    followups = {
        "open": sum(by_dept.get(d, {}).get("open", 0) for d in scope),
        "overdue": sum(by_dept.get(d, {}).get("overdue", 0) for d in scope),
    }
    cases = {
        "overdue": sum(d["overdue"] for d in depts),
        "due_soon": sum(d["due_soon"] for d in depts),
        "departments": depts,
        "worst": worst[: full.get("_worst", len(worst))],
    }
    totals = {
        "waiting": sum(q["waiting"] for q in queues),
        "longest_wait_s": max((q["longest_wait_s"] for q in queues), default=0),
        "reviewers_online": len(reviewers),
        "sessions": len(sessions),
        "cases_overdue": cases["overdue"],
        "cases_due_soon": cases["due_soon"],
        "followups_open": followups["open"],
        "followups_overdue": followups["overdue"],
    }
    return {
        **_public(full),
        "totals": totals,
        "queues": queues,
        "sessions": sessions,
        "cases": cases,
        "followups": followups,
    }
