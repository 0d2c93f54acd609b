"""A video session: an applicant, a reviewer and any further participants.

The state machine follows the applicant and the reviewer (the *pair*); further
participants (a consulted colleague, a field inspector, an observing
supervisor) join and leave while the session is on without changing its state.

    called ──► connecting ──► live ◄──► reconnecting
       │            │           │             │
       └────────────┴───────────┴─────────────┴──► ended

Every transition goes through `VideoSession.set_state`, which checks it,
logs it and hands it to the audit hook: one place to read the history.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)


class State(StrEnum):
    CALLED = "called"
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    ENDED = "ended"


_ALLOWED: dict[State, frozenset[State]] = {
    State.CALLED: frozenset({State.CONNECTING, State.ENDED}),
    State.CONNECTING: frozenset({State.LIVE, State.ENDED}),
    State.LIVE: frozenset({State.RECONNECTING, State.ENDED}),
    State.RECONNECTING: frozenset({State.LIVE, State.ENDED}),
    State.ENDED: frozenset(),
}


class Link(StrEnum):
    """A participant's media connection to the server, as the other side sees it."""

    WAITING = "waiting"  # not connected yet
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"  # dropped; within the rejoin grace
    LEFT = "left"


class InvalidTransition(Exception):
    pass


# A participant's part in the session (Participant.party); `role` is its account's role.
APPLICANT, REVIEWER, COLLEAGUE, INSPECTOR, OBSERVER = (
    "applicant",
    "reviewer",
    "colleague",
    "inspector",
    "observer",
)
PARTIES = (APPLICANT, REVIEWER, COLLEAGUE, INSPECTOR, OBSERVER)


@dataclass
class Participant:
    holder: str
    role: str
    subject: str
    name: str
    place: str | None
    priority_class: str = "normal"
    link: Link = Link.WAITING
    audio: bool = True
    video: bool = True
    segments: int = 0
    party: str = ""  # see PARTIES; "" means decided by the session (applicant/reviewer)
    # Wall-clock [joined, left] of each stay (left None while present); a
    # participant who leaves and comes back has two.
    stays: list[list[float | None]] = field(default_factory=list)
    added_by: str | None = None  # the account that brought them in

    def public(self) -> dict[str, Any]:
        return {"role": self.role, "name": self.name, "place": self.place, "party": self.party}

    def arrive(self, now: float) -> None:
        if not self.stays or self.stays[-1][1] is not None:
            self.stays.append([now, None])

    def depart(self, now: float) -> None:
        if self.stays and self.stays[-1][1] is None:
            self.stays[-1][1] = now


@dataclass(frozen=True)
class LinkedCase:
    """A case linked to a live session: its item and checklist material codes."""

    item: str
    materials: tuple[str, ...]


AuditHook = Callable[["VideoSession", str, str | None, dict[str, Any]], None]


@dataclass
class VideoSession:
    id: str
    ticket_id: str
    queue: str
    item: str
    place: str
    applicant: Participant
    reviewer: Participant
    audit: AuditHook
    state: State = State.CALLED
    created_at: float = field(default_factory=time.time)
    live_at: float | None = None
    ended_at: float | None = None
    outcome: str | None = None
    waited_s: float = 0.0  # from joining the queue to being called
    ticket_number: str = ""  # 叫号, e.g. "A012"
    history: list[tuple[float, str]] = field(default_factory=list)
    # Cases (办件) linked during the session, by number (server/doc_capture.py).
    cases: dict[str, LinkedCase] = field(default_factory=dict)
    # Supervisors observing (live spot check): holder → display name
    # (server/session_observers.py). Never a participant.
    observers: dict[str, str] = field(default_factory=dict)
    # Participants beyond the pair, in joining order; who left is in `former`.
    extras: list[Participant] = field(default_factory=list)
    former: list[Participant] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.applicant.party = self.applicant.party or APPLICANT
        self.reviewer.party = self.reviewer.party or REVIEWER

    @staticmethod
    def new_id() -> str:
        return time.strftime("%Y%m%d-%H%M%S-", time.gmtime()) + secrets.token_hex(4)

    @property
    def participants(self) -> tuple[Participant, ...]:
        """Who is in the session now: the applicant, the reviewer, then the extras."""
        return (self.applicant, self.reviewer, *self.extras)

    @property
    def pair(self) -> tuple[Participant, Participant]:
        return (self.applicant, self.reviewer)

    @property
    def everyone(self) -> list[Participant]:
        """Everyone who took part, present or gone (for the manifest)."""
        return [*self.participants, *(p for p in self.former if p not in self.extras)]

    def is_extra(self, participant: Participant) -> bool:
        return participant is not self.applicant and participant is not self.reviewer

    def participant(self, holder: str) -> Participant | None:
        for p in self.participants:
            if p.holder == holder:
                return p
        return None

    def other(self, holder: str) -> Participant:
        """The pair's other side; for an extra participant, the applicant."""
        return self.reviewer if holder == self.applicant.holder else self.applicant

    @property
    def started(self) -> bool:
        """Media has flowed: the queue place has been used."""
        return self.live_at is not None

    def set_state(self, new: State, actor: str | None, reason: str) -> None:
        if new == self.state:
            return
        if new not in _ALLOWED[self.state]:
            raise InvalidTransition(f"{self.state} -> {new}")
        old, self.state = self.state, new
        now = time.time()
        if new == State.LIVE and self.live_at is None:
            self.live_at = now
        if new == State.ENDED:
            self.ended_at = now
        self.history.append((now, new.value))
        log.info(
            "session state",
            extra={"session": self.id, "from": old.value, "to": new.value, "reason": reason},
        )
        self.audit(
            self, "session.state", actor, {"from": old.value, "to": new.value, "reason": reason}
        )

    def handling_seconds(self) -> float | None:
        if self.live_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.live_at
