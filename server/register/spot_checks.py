"""Random spot checks of finished cases (随机抽查): a seeded, recorded weekly draw.

The population of a week (ISO week, `2026-W49`, in the catalogue's time zone)
is every case decided (approved or rejected) in it, per department. Each
department gives n = ceil(share × N) cases, at least `min_per_department`,
at most N. Which ones: the cases ranked by SHA-256 of
`"<seed>|<week>|<department>|<case number>"` (hex, ascending), the first n.
The rule needs nothing but the seed, the parameters and the case numbers, so
anyone can re-draw it: the seed, the parameters, each department's count and
a digest of its case numbers (SHA-256 of the sorted numbers, one a line) go
into the audit log (`spot_check.drawn`) and the register. `redraw` does it
again from what was recorded and compares.

A week is drawn once. A supervisor covering the department reviews each drawn
case with the checklist (materials complete, decision justified, time limit
kept, conduct: each true or false) and a verdict (pass / fail), once.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.catalogue import Catalogue
from server.config import SpotChecksConfig
from server.register.case_types import DECISIONS, Actor, CaseError, CaseForbidden, utc
from server.register.db import Register
from server.register.models import CaseRow, SpotCheckRow, SpotDrawRow

Audit = Callable[[str, str | None, dict[str, Any]], None]
ALGORITHM = "sha256-rank/1"
CHECKLIST = ("materials_complete", "decision_justified", "time_limit_kept", "conduct")
VERDICTS = ("pass", "fail")
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
SEED_MAX = 2**53  # exact in JavaScript numbers too (the page sends it as one)


class AlreadyDrawn(CaseError):
    status = 409

    def __init__(self, week: str) -> None:
        super().__init__("week", "already_drawn", f"week {week} has been drawn already")


class NotFound(CaseError):
    status = 404


def parse_week(week: Any) -> tuple[date, date]:
    """Monday and the next Monday of an ISO week like 2026-W49."""
    found = WEEK.match(week) if isinstance(week, str) else None
    if found is None:
        raise CaseError("week", "invalid", "an ISO week like 2026-W49")
    try:
        monday = date.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError:
        raise CaseError("week", "invalid", "no such ISO week") from None
    return monday, monday + timedelta(days=7)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def sample_size(n: int, share: float, minimum: int) -> int:
    if n == 0:
        return 0
    return min(n, max(minimum, math.ceil(round(share * n, 9))))


def rank_key(seed: str, week: str, department: str, number: str) -> str:
    return hashlib.sha256(f"{seed}|{week}|{department}|{number}".encode()).hexdigest()


def digest(numbers: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(numbers)).encode()).hexdigest()


def draw_sample(
    population: dict[str, list[str]], seed: str, week: str, share: float, minimum: int
) -> dict[str, list[str]]:
    """The drawn case numbers per department (the documented rule above)."""
    out: dict[str, list[str]] = {}
    for department, numbers in sorted(population.items()):
        n = sample_size(len(numbers), share, minimum)
        ranked = sorted(numbers, key=lambda num: rank_key(seed, week, department, num))
        out[department] = sorted(ranked[:n])
    return out


class SpotCheckService:
    def __init__(
        self,
        register: Register,
        catalogue: Catalogue,
        cfg: SpotChecksConfig,
        audit: Audit | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.register = register
        self.catalogue = catalogue
        self.cfg = cfg
        self._audit = audit or (lambda *_: None)
        self._clock = clock

    # -- the population -----------------------------------------------------
    def population(self, week: str) -> dict[str, list[str]]:
        """The week's decided cases per department (numbers, sorted)."""
        monday, next_monday = parse_week(week)
        zone = ZoneInfo(self.catalogue.timezone)
        start = datetime.combine(monday, time(), zone).astimezone(UTC)
        end = datetime.combine(next_monday, time(), zone).astimezone(UTC)
        q = (
            select(CaseRow.department, CaseRow.number)
            .where(CaseRow.state.in_([d.value for d in DECISIONS]))
            .where(CaseRow.decided_at >= start, CaseRow.decided_at < end)
            .order_by(CaseRow.number)
        )
        out: dict[str, list[str]] = {}
        with self.register.read() as s:
            for department, number in s.execute(q):
                out.setdefault(department, []).append(number)
        return out

    # -- drawing ------------------------------------------------------------
    def draw(self, actor_ref: str, week: str, seed: Any = None) -> dict[str, Any]:
        """Draw the week once, with `seed` (a whole number) or a random one."""
        parse_week(week)
        if seed is None:
            seed = secrets.randbelow(SEED_MAX)
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_MAX:
            raise CaseError("seed", "invalid", f"a whole number from 0 to {SEED_MAX - 1}")
        share, minimum = self.cfg.share, self.cfg.min_per_department
        population = self.population(week)
        sample = draw_sample(population, str(seed), week, share, minimum)
        recorded = {
            dep: {"cases": len(nums), "drawn": len(sample[dep]), "digest": digest(nums)}
            for dep, nums in population.items()
        }
        try:
            with self.register.write() as s:
                if s.scalar(select(SpotDrawRow.id).where(SpotDrawRow.week == week)) is not None:
                    raise AlreadyDrawn(week)
                row = SpotDrawRow(
                    week=week,
                    seed=str(seed),
                    share=share,
                    min_per_department=minimum,
                    population=recorded,
                    drawn_by=actor_ref,
                    drawn_at=self._clock(),
                )
                row.checks = [
                    SpotCheckRow(number=num, department=dep, state="pending")
                    for dep, nums in sample.items()
                    for num in nums
                ]
                s.add(row)
                s.flush()
                out = self._draw_json(row)
        except IntegrityError:
            raise AlreadyDrawn(week) from None
        self._audit(
            "spot_check.drawn",
            actor_ref,
            {
                "week": week,
                "seed": str(seed),
                "share": share,
                "min_per_department": minimum,
                "algorithm": ALGORITHM,
                "population": recorded,
                "drawn": sample,
            },
        )
        return out

    def redraw(self, actor_ref: str, week: str) -> dict[str, Any]:
        """Draw again from the recorded seed and parameters and compare."""
        parse_week(week)
        with self.register.read() as s:
            row = s.scalar(select(SpotDrawRow).where(SpotDrawRow.week == week))
            if row is None:
                raise NotFound("week", "not_found", f"week {week} has not been drawn")
            seed, share, minimum = row.seed, row.share, row.min_per_department
            recorded = dict(row.population)
            stored = sorted(c.number for c in row.checks)
        population = self.population(week)
        again = draw_sample(population, seed, week, share, minimum)
        redrawn = sorted(num for nums in again.values() for num in nums)
        now = {dep: digest(nums) for dep, nums in population.items()}
        same_population = now == {dep: v["digest"] for dep, v in recorded.items()}
        result = {
            "week": week,
            "seed": seed,
            "same_sample": redrawn == stored,
            "same_population": same_population,
            "missing": sorted(set(stored) - set(redrawn)),
            "extra": sorted(set(redrawn) - set(stored)),
            "drawn": stored,
        }
        self._audit(
            "spot_check.redrawn",
            actor_ref,
            {k: result[k] for k in ("week", "seed", "same_sample", "same_population")},
        )
        return result

    # -- reading and reviewing ------------------------------------------------
    def departments_of(self, items: tuple[str, ...]) -> set[str]:
        return {self.catalogue.items[i].department.zh for i in items if i in self.catalogue.items}

    def _check_supervisor(self, actor: Actor) -> None:
        if actor.role != "supervisor":
            raise CaseForbidden("spot checks are for supervisors")

    def list(self, actor: Actor, week: str | None = None) -> list[dict[str, Any]]:
        """Draws (newest first) with the checks of the departments the actor covers."""
        self._check_supervisor(actor)
        q = select(SpotDrawRow).order_by(SpotDrawRow.week.desc())
        if week is not None:
            parse_week(week)
            q = q.where(SpotDrawRow.week == week)
        covered = self.departments_of(actor.items) if actor.items else None
        with self.register.read() as s:
            return [self._draw_json(row, covered) for row in s.scalars(q.limit(60))]

    def review(
        self, actor: Actor, check_id: int, checklist: Any, verdict: Any, note: Any = ""
    ) -> dict[str, Any]:
        self._check_supervisor(actor)
        if not isinstance(checklist, dict) or set(checklist) != set(CHECKLIST):
            raise CaseError("checklist", "invalid", f"true or false for {', '.join(CHECKLIST)}")
        if not all(isinstance(v, bool) for v in checklist.values()):
            raise CaseError("checklist", "invalid", "each answer is true or false")
        if verdict not in VERDICTS:
            raise CaseError("verdict", "invalid", f"one of {', '.join(VERDICTS)}")
        if note is None:
            note = ""
        if not isinstance(note, str) or len(note.strip()) > 2000:
            raise CaseError("note", "invalid", "a string of at most 2000 characters")
        with self.register.write() as s:
            q = select(SpotCheckRow).where(SpotCheckRow.id == check_id)
            row = s.scalar(q.with_for_update())
            if row is None:
                raise NotFound("check", "not_found", f"no spot check {check_id}")
            if actor.items and row.department not in self.departments_of(actor.items):
                raise CaseForbidden(f"{actor.username} does not supervise {row.department}")
            if row.state != "pending":
                raise AlreadyReviewed(check_id)
            row.state, row.checklist, row.verdict = "reviewed", dict(checklist), verdict
            row.note, row.reviewed_by, row.reviewed_at = note.strip(), actor.ref, self._clock()
            out = self._check_json(row)
            info = {"check": row.id, "case": row.number, "department": row.department}
        self._audit("spot_check.reviewed", actor.ref, {**info, "verdict": verdict, **checklist})
        return out

    def _draw_json(self, row: SpotDrawRow, covered: set[str] | None = None) -> dict[str, Any]:
        checks = [c for c in row.checks if covered is None or c.department in covered]
        return {
            "id": row.id,
            "week": row.week,
            "seed": row.seed,
            "share": row.share,
            "min_per_department": row.min_per_department,
            "algorithm": ALGORITHM,
            "population": row.population,
            "drawn_by": row.drawn_by,
            "drawn_at": utc(row.drawn_at).isoformat(),
            "checks": [self._check_json(c) for c in checks],
        }

    @staticmethod
    def _check_json(c: SpotCheckRow) -> dict[str, Any]:
        return {
            "id": c.id,
            "number": c.number,
            "department": c.department,
            "state": c.state,
            "checklist": c.checklist or None,
            "verdict": c.verdict,
            "note": c.note,
            "reviewed_by": c.reviewed_by,
            "reviewed_at": utc(c.reviewed_at).isoformat() if c.reviewed_at else None,
        }


class AlreadyReviewed(CaseError):
    status = 409

    def __init__(self, check_id: int) -> None:
        super().__init__("check", "already_reviewed", f"spot check {check_id} is reviewed")
