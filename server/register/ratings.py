"""Ratings (好差评): an applicant rates a video session or a finished case, once.

A rating is never changed: there is no update path, and a second rating of
the same session or case is refused (409 `already_rated`, also when two race:
the register's unique key on kind and subject decides). Each rating goes to
the system audit log (`rating.given`: level and reason codes, never the
comment) and, when it belongs to a case, to the case's history. The
reviewer, department, item and place are copied in for statistics
(`rating_distribution`). A bad rating (不满意, 非常不满意) opens a follow-up
(followups.py) in the same transaction.

Sessions: the caller (server/ratings_api.py) establishes from the signed
session archive that the kiosk was the session's applicant and when it ended.
Cases: rated through the receipt's QR code, `/rate/<number>-<mac>`, a keyed
code like the verification code's (another purpose, the same key), during
`ratings.case_link_days` from the case's decision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.config import RatingsConfig
from server.register.case_types import FINAL, Actor, CaseError, CaseState, utc
from server.register.cases import CaseService
from server.register.followups import FollowUpService
from server.register.models import CaseRow, CaseSession, RatingRow
from server.register.rating_terms import (
    BAD_LEVELS,
    LEVEL_BY_CODE,
    LEVELS,
    SATISFIED_LEVELS,
    level_names,
    options,
    reason_names,
)
from server.register.verify_codes import VerifyCodes

log = logging.getLogger(__name__)
Audit = Callable[[str, str | None, dict[str, Any]], None]
PUBLIC_RATER = "public"


class AlreadyRated(CaseError):
    status = 409

    def __init__(self, kind: str) -> None:
        super().__init__("rating", "already_rated", f"this {kind} has been rated already")


class NotRateable(CaseError):
    """The subject exists but cannot be rated (now, or by this caller)."""

    status = 409

    def __init__(self, code: str, message: str) -> None:
        super().__init__("rating", code, message)


class UnknownCode(CaseError):
    status = 404

    def __init__(self) -> None:
        super().__init__("code", "not_found", "no such rating code")


class RateCodes(VerifyCodes):
    """The receipt's rating code: `<number>-<mac>`, keyed for another purpose
    (the same key file as the verification code, another MAC input)."""

    PURPOSE = b"rate:"


@dataclass(frozen=True)
class SessionFacts:
    """What the signed session archive says about a session being rated."""

    session_id: str
    applicant: str  # holder, e.g. kiosk:k-1a2b
    reviewer: str | None
    item: str
    place: str
    ended_at: datetime
    served: bool  # media flowed (a session that never went live is not rated)


class RatingService:
    def __init__(
        self,
        cases: CaseService,
        followups: FollowUpService,
        cfg: RatingsConfig,
        codes: RateCodes,
        audit: Audit | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.cases = cases
        self.followups = followups
        self.cfg = cfg
        self.codes = codes
        self._audit = audit or (lambda *_: None)
        self._clock = clock

    def options(self) -> dict[str, Any]:
        return options(self.cfg.reasons, self.cfg.comment_max_chars)

    def rate_url(self, base_url: str, number: str) -> str:
        return f"{base_url}/rate/{self.codes.code(number)}"

    # -- checks ------------------------------------------------------------
    def check(self, level: Any, reasons: Any, comment: Any) -> tuple[int, list[str], str]:
        """The level (a code or 1..5), known reason codes (no repeats), the comment."""
        if isinstance(level, str) and level in LEVEL_BY_CODE:
            level = LEVEL_BY_CODE[level]
        if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
            raise CaseError("level", "invalid", f"one of {', '.join(LEVEL_BY_CODE)}")
        if reasons is None:
            reasons = []
        if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
            raise CaseError("reasons", "invalid", "a list of reason codes")
        unknown = [r for r in reasons if r not in self.cfg.reasons]
        if unknown:
            raise CaseError("reasons", "unknown", f"unknown reasons {', '.join(unknown)}")
        if len(set(reasons)) != len(reasons):
            raise CaseError("reasons", "invalid", "a reason given twice")
        if comment is None:
            comment = ""
        if not isinstance(comment, str):
            raise CaseError("comment", "invalid", "a string")
        comment = comment.strip()
        if len(comment) > self.cfg.comment_max_chars:
            limit = self.cfg.comment_max_chars
            raise CaseError("comment", "too_long", f"at most {limit} characters")
        return level, reasons, comment

    # -- a session ---------------------------------------------------------
    def rate_session(
        self, facts: SessionFacts, rater: str, level: Any, reasons: Any = None, comment: Any = None
    ) -> dict[str, Any]:
        """The kiosk `rater` (its holder) rates the session it was the applicant of."""
        lv, why, text = self.check(level, reasons, comment)
        if facts.applicant != rater:
            raise NotRateable("not_yours", "only the kiosk that was in the session rates it")
        if not facts.served:
            raise NotRateable("not_served", "the session never started")
        window = timedelta(minutes=self.cfg.session_window_minutes)
        if self._clock() - facts.ended_at > window:
            raise NotRateable("expired", "the time to rate this session has passed")
        item = self.cases.catalogue.items.get(facts.item)
        department = item.department.zh if item else ""
        with self.cases.register.write() as s:
            case = s.scalar(
                select(CaseRow)
                .join(CaseSession, CaseSession.case_id == CaseRow.id)
                .where(CaseSession.session_id == facts.session_id)
                .order_by(CaseRow.id)
                .limit(1)
            )
            row = RatingRow(
                kind="session",
                subject=facts.session_id,
                case_id=case.id if case else None,
                level=lv,
                reasons=why,
                comment=text,
                channel="kiosk",
                rated_by=rater,
                at=self._clock(),
                reviewer=facts.reviewer,
                department=case.department if case else department,
                item=facts.item,
                place=facts.place,
                mode=case.mode if case else "video",
            )
            events = self._store(s, row, case)
            out = rating_json(row)
        self._emit(events)
        return out

    # -- a case ------------------------------------------------------------
    def case_for_code(self, code: str) -> dict[str, Any] | None:
        """What the public rating page shows for a code: None when the code is not
        genuine or names no case; else the case number, item, state and whether
        it may be rated now (`status`: open, expired, rated or rateable)."""
        number = self.codes.number_of(code)
        if number is None:
            return None
        with self.cases.register.read() as s:
            row = s.scalar(select(CaseRow).where(CaseRow.number == number))
            if row is None:
                return None
            rated = s.scalar(
                select(RatingRow).where(RatingRow.kind == "case", RatingRow.subject == number)
            )
            return {
                "number": number,
                "item": row.item,
                "state": row.state,
                "status": self._case_status(row, rated),
                "rating": rating_json(rated) if rated else None,
            }

    def _case_status(self, row: CaseRow, rated: RatingRow | None) -> str:
        if rated is not None:
            return "rated"
        if CaseState(row.state) not in FINAL:
            return "open"
        finished = utc(row.decided_at or row.updated_at)
        if self._clock() - finished > timedelta(days=self.cfg.case_link_days):
            return "expired"
        return "rateable"

    def rate_case(
        self, code: str, level: Any, reasons: Any = None, comment: Any = None
    ) -> dict[str, Any]:
        """The applicant rates a finished case through its receipt's code."""
        lv, why, text = self.check(level, reasons, comment)
        number = self.codes.number_of(code)
        if number is None:
            raise UnknownCode()
        with self.cases.register.write() as s:
            case = self.cases._locked(s, number)
            rated = s.scalar(
                select(RatingRow).where(RatingRow.kind == "case", RatingRow.subject == number)
            )
            status = self._case_status(case, rated)
            if status == "rated":
                raise AlreadyRated("case")
            if status == "open":
                raise NotRateable("open", "the case can be rated once it is decided")
            if status == "expired":
                raise NotRateable("expired", "the time to rate this case has passed")
            decider = case.decided_by or ""
            row = RatingRow(
                kind="case",
                subject=number,
                case_id=case.id,
                level=lv,
                reasons=why,
                comment=text,
                channel="web",
                rated_by=PUBLIC_RATER,
                at=self._clock(),
                reviewer=decider.partition(":")[2] or None,
                department=case.department,
                item=case.item,
                place=case.place,
                mode=case.mode,
            )
            events = self._store(s, row, case)
            out = rating_json(row)
        self._emit(events)
        return out

    # -- shared ------------------------------------------------------------
    def _store(self, s: Session, row: RatingRow, case: CaseRow | None) -> list[dict[str, Any]]:
        """Insert the rating (refused when its subject has one), its case history
        line and, for a bad rating, the follow-up; the audit events to emit."""
        taken = s.scalar(
            select(RatingRow.id).where(RatingRow.kind == row.kind, RatingRow.subject == row.subject)
        )
        if taken is not None:
            raise AlreadyRated(row.kind)
        try:
            with s.begin_nested():
                s.add(row)
                s.flush()
        except IntegrityError:
            raise AlreadyRated(row.kind) from None
        info = {
            "rating": row.id,
            "kind": row.kind,
            "subject": row.subject,
            "level": LEVELS[row.level][0],
            "reasons": list(row.reasons),
            "department": row.department,
            "item": row.item,
            "reviewer": row.reviewer,
        }
        events = [{"type": "rating.given", "actor": row.rated_by, "data": info}]
        if case is not None:
            role, _, name = row.rated_by.partition(":")
            actor = Actor(name, role) if name else Actor(row.rated_by, "applicant")
            data = {"rating": row.id, "kind": row.kind, "level": LEVELS[row.level][0]}
            self.cases._history(s, case, actor, "rating", None, None, "", data)
        if row.level in BAD_LEVELS:
            events.append(self.followups.open_in(s, row))
        log.info("rating given", extra={"kind": row.kind, "level": row.level})
        return events

    def _emit(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self._audit(event["type"], event["actor"], event["data"])
        if any(e["type"].startswith("followup.") for e in events):
            self.followups.notify()


def rating_json(row: RatingRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "subject": row.subject,
        "level": row.level,
        "level_names": level_names(row.level),
        "reasons": [reason_names(r) for r in row.reasons],
        "comment": row.comment,
        "channel": row.channel,
        "at": utc(row.at).isoformat(),
        "reviewer": row.reviewer,
        "department": row.department,
        "item": row.item,
        "place": row.place,
    }


@dataclass(frozen=True)
class RatingFilter:
    """Filters of the statistics page; None means any."""

    since: datetime | None = None
    until: datetime | None = None  # exclusive
    department: str | None = None
    item: str | None = None
    place: str | None = None
    mode: str | None = None
    kind: str | None = None  # session | case


def rating_distribution(s: Session, f: RatingFilter | None = None) -> dict[str, Any]:
    """Ratings per level and the satisfaction rate (基本满意 or better over all),
    for the statistics page: one indexed GROUP BY on the register."""
    f = f or RatingFilter()
    q = select(RatingRow.level, func.count()).group_by(RatingRow.level)
    for column, value in (
        (RatingRow.department, f.department),
        (RatingRow.item, f.item),
        (RatingRow.place, f.place),
        (RatingRow.mode, f.mode),
        (RatingRow.kind, f.kind),
    ):
        if value is not None:
            q = q.where(column == value)
    if f.since is not None:
        q = q.where(RatingRow.at >= f.since)
    if f.until is not None:
        q = q.where(RatingRow.at < f.until)
    counts = {level: 0 for level in LEVELS}
    for level, n in s.execute(q):
        counts[int(level)] = int(n)
    total = sum(counts.values())
    satisfied = sum(n for level, n in counts.items() if level in SATISFIED_LEVELS)
    return {
        "levels": [
            {**level_names(level), "level": level, "count": counts[level]}
            for level in sorted(LEVELS, reverse=True)
        ],
        "total": total,
        "satisfied": satisfied,
        "bad": sum(n for level, n in counts.items() if level in BAD_LEVELS),
        "satisfaction_rate": round(satisfied / total, 4) if total else None,
    }
