"""Server → client signaling messages: the wire format has one source (PROTOCOL.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from signaling.message_base import DocFailReason, Message, outbound

# --------------------------------------------------------------------------
# server → client


@outbound
@dataclass(frozen=True)
class Welcome(Message):
    type: ClassVar[str] = "welcome"
    protocol: int
    role: str
    name: str
    place: str | None
    heartbeat_s: float
    # What follows: "queue" (a queue.status), "session" (a session.paired) or "none".
    resume: Literal["none", "queue", "session"] = "none"


@outbound
@dataclass(frozen=True)
class Pong(Message):
    type: ClassVar[str] = "pong"


@outbound
@dataclass(frozen=True)
class QueueStatus(Message):
    type: ClassVar[str] = "queue.status"
    ticket: str
    item: str
    priority_class: str
    position: int
    ahead: int
    estimated_wait_s: int | None  # None while no reviewer of the item is online
    state: Literal["waiting", "away", "called"]
    ticket_number: str = ""  # 叫号, e.g. "A012"
    reviewers_online: int = 0
    hours: dict[str, Any] | None = None  # {"zh", "en", "open_now"}; None: not configured


@outbound
@dataclass(frozen=True)
class QueueLeft(Message):
    type: ClassVar[str] = "queue.left"
    reason: Literal["left", "expired"]


@outbound
@dataclass(frozen=True)
class DeskQueues(Message):
    type: ClassVar[str] = "desk.queues"
    queues: list[dict[str, Any]]


@outbound
@dataclass(frozen=True)
class SessionPaired(Message):
    type: ClassVar[str] = "session.paired"
    session_id: str
    item: str
    place: str
    role: str
    peer: dict[str, Any]
    ice_servers: list[dict[str, Any]]
    state: str
    priority_class: str = "normal"
    waited_s: int = 0
    ticket_number: str = ""  # the applicant's ticket (叫号), e.g. "A012"
    # This participant's part: applicant, reviewer, colleague, inspector, observer.
    party: str = ""


@outbound
@dataclass(frozen=True)
class SessionState(Message):
    """The session's state and the other side's connection, in plain words."""

    type: ClassVar[str] = "session.state"
    session_id: str
    state: str
    peer_connection: str
    peer_media: dict[str, bool]
    notice: dict[str, str] | None = None


@outbound
@dataclass(frozen=True)
class SessionParticipants(Message):
    """Who is in an N-party session, and what this client's m-lines carry.

    `routes`: per negotiated m-line {mid, kind, from (a participant id, or
    None: free), track ("audio", "video", "video:1")}. `needed`: m-lines per
    kind to receive every other's tracks; a client with fewer re-offers."""

    type: ClassVar[str] = "session.participants"
    session_id: str
    participants: list[dict[str, Any]]
    routes: list[dict[str, Any]]
    needed: dict[str, int]
    you: str


@outbound
@dataclass(frozen=True)
class SessionInvited(Message):
    """To an invited colleague's desk: a reviewer asks them into a session."""

    type: ClassVar[str] = "session.invited"
    invite_id: str
    session_id: str
    item: str
    place: str
    inviter: dict[str, Any]
    party: str
    expires_s: int


@outbound
@dataclass(frozen=True)
class SessionInviteResult(Message):
    """To the inviter: what became of an invitation, in plain words.

    `result`: ringing (sent), accepted, declined, timeout, cancelled (the
    session ended or the invitation was withdrawn). To the invited desk, a
    result other than ringing stops its ringing."""

    type: ClassVar[str] = "session.invite_result"
    invite_id: str
    account: str
    result: Literal["ringing", "accepted", "declined", "timeout", "cancelled"]
    notice: dict[str, str]


@outbound
@dataclass(frozen=True)
class RtcAnswer(Message):
    type: ClassVar[str] = "rtc.answer"
    sdp: str


@outbound
@dataclass(frozen=True)
class SessionEnded(Message):
    type: ClassVar[str] = "session.ended"
    session_id: str
    outcome: str
    by: str


@outbound
@dataclass(frozen=True)
class CaseUpdated(Message):
    """A case (办件) changed: to the staff sockets that may read it (its item's
    reviewers, agents of its place, supervisors). Never the applicant's ID number."""

    type: ClassVar[str] = "case.updated"
    number: str
    state: str
    item: str
    place: str
    remaining_working_days: int | None  # None once decided or withdrawn
    overdue: bool
    due_soon: bool  # due today or on the next working day
    change: str  # created, state, document, unreadable, session, material, ...
    reason: str | None = None  # the change's written reasons (e.g. what to add)


@dataclass(frozen=True)
class _Supervision(Message):
    """The supervisors' dashboard (审管联动), whole: server/supervision_data.py.

    No applicant's name or ID number: sessions name the reviewer, the item, the
    place and the ticket number only."""

    at: str  # ISO 8601 UTC: when it was read; waits and durations are as of then
    totals: dict[str, int]
    queues: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    cases: dict[str, Any]
    followups: dict[str, int]


@outbound
@dataclass(frozen=True)
class SupervisionSnapshot(_Supervision):
    """To a supervisor's socket right after `welcome`."""

    type: ClassVar[str] = "supervision.snapshot"


@outbound
@dataclass(frozen=True)
class SupervisionUpdate(_Supervision):
    """To supervisors' sockets when anything on the dashboard changed (coalesced:
    at most one per `supervision.push_coalesce_ms`); the whole dashboard again."""

    type: ClassVar[str] = "supervision.update"


@outbound
@dataclass(frozen=True)
class SessionObserver(Message):
    """Who observes a session, as far as its participants are told: to the
    participants when observers are announced (`notice` null once none is left),
    and always to the observing supervisor (`observing` true while it observes)."""

    type: ClassVar[str] = "session.observer"
    session_id: str
    observers: int
    notice: dict[str, str] | None  # {"zh": "监督人员在线", "en": ...} or None
    observing: bool = False  # the receiver is one of the observers


@outbound
@dataclass(frozen=True)
class DocCase(Message):
    """A case (办件) was linked to the session: its number and checklist materials."""

    type: ClassVar[str] = "doc.case"
    session_id: str
    case: str
    item: str
    materials: list[str]


@outbound
@dataclass(frozen=True)
class DocTake(Message):
    """To the applicant side: take a full-resolution still of `material` and upload it."""

    type: ClassVar[str] = "doc.take"
    case: str
    material: str
    by: Literal["reviewer", "applicant"]


@outbound
@dataclass(frozen=True)
class DocStored(Message):
    """A page of a linked case was stored (the document record of the documents API)."""

    type: ClassVar[str] = "doc.stored"
    case: str
    document: dict[str, Any]


@outbound
@dataclass(frozen=True)
class DocRecapture(Message):
    """To the applicant side: the reviewer marked a page unreadable; capture it again."""

    type: ClassVar[str] = "doc.recapture"
    case: str
    material: str
    page: int
    reason: str


@outbound
@dataclass(frozen=True)
class DocCaptureFailed(Message):
    """To the session's reviewer: the applicant side took or stored no still of
    `material` (its `doc.failed`), so the desk stops waiting and says why."""

    type: ClassVar[str] = "doc.capture_failed"
    case: str
    material: str
    reason_code: DocFailReason


@outbound
@dataclass(frozen=True)
class Error(Message):
    type: ClassVar[str] = "error"
    code: str
    message: str
    ref: str | None = None
