"""Every signaling message, defined once as a typed class.

Inbound (client → server) messages are validated on arrival: JSON shape,
known type, field types and lengths, and the roles allowed to send them.
Whether the sender may send it *now* (its state) is checked by the handler.
Outbound (server → client) messages are built from the classes below so the
wire format has one source; PROTOCOL.md documents both directions.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from signaling.errors import ErrorCode, ProtocolError

PROTOCOL_VERSION = 1

KIOSK = "kiosk"
AGENT = "agent"
REVIEWER = "reviewer"
SUPERVISOR = "supervisor"
ADMIN = "admin"
INSPECTOR = "inspector"
ALL_ROLES = frozenset({KIOSK, AGENT, REVIEWER, SUPERVISOR, ADMIN, INSPECTOR})
APPLICANT_ROLES = frozenset({KIOSK, AGENT})
PARTICIPANT_ROLES = frozenset({KIOSK, AGENT, REVIEWER, INSPECTOR})
# Who can be in a session: the participants and a supervisor observing (N-party).
SESSION_ROLES = PARTICIPANT_ROLES | {SUPERVISOR}

DEFAULT_MAX_STR = 256
MAX_SDP = 60_000
# Deepest nesting of arrays/objects accepted anywhere in a frame (the top
# object is level 1). Deeper frames are `bad_json`, checked without recursion.
MAX_DEPTH = 32
# How much of an unreadable or unknown type is echoed back in `error.ref`.
MAX_REF = 64


@dataclass(frozen=True)
class Message:
    type: ClassVar[str]
    # Per-field string length limits; DEFAULT_MAX_STR otherwise.
    max_len: ClassVar[dict[str, int]] = {}

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.type, **dataclasses.asdict(self)}

    def dumps(self) -> str:
        return json.dumps(self.to_wire(), ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class ClientMessage(Message):
    roles: ClassVar[frozenset[str]] = ALL_ROLES


INBOUND: dict[str, type[ClientMessage]] = {}
OUTBOUND: dict[str, type[Message]] = {}


def inbound(cls: type[ClientMessage]) -> type[ClientMessage]:
    INBOUND[cls.type] = cls
    return cls


def outbound(cls: type[Message]) -> type[Message]:
    OUTBOUND[cls.type] = cls
    return cls


# --------------------------------------------------------------------------
# client → server


@inbound
@dataclass(frozen=True)
class Ping(ClientMessage):
    type: ClassVar[str] = "ping"


@inbound
@dataclass(frozen=True)
class QueueJoin(ClientMessage):
    """Take a place in the queue of one service item."""

    type: ClassVar[str] = "queue.join"
    roles: ClassVar[frozenset[str]] = APPLICANT_ROLES
    item: str
    priority_class: str = "normal"
    # The kiosk displayed 本次办理全程录音录像 before joining; required true.
    recording_notice_shown: bool = False
    max_len: ClassVar[dict[str, int]] = {"item": 64, "priority_class": 32}


@inbound
@dataclass(frozen=True)
class QueueLeave(ClientMessage):
    type: ClassVar[str] = "queue.leave"
    roles: ClassVar[frozenset[str]] = APPLICANT_ROLES


@inbound
@dataclass(frozen=True)
class CallNext(ClientMessage):
    """Reviewer: take the best waiting applicant across the items served."""

    type: ClassVar[str] = "desk.call_next"
    roles: ClassVar[frozenset[str]] = frozenset({REVIEWER})


@inbound
@dataclass(frozen=True)
class RtcOffer(ClientMessage):
    """An SDP offer for this participant's one peer connection to the server.

    A new offer replaces the previous connection (rejoin after failure)."""

    type: ClassVar[str] = "rtc.offer"
    roles: ClassVar[frozenset[str]] = SESSION_ROLES
    sdp: str
    # True: apply to the current, connected pc (more m-lines for a newcomer's
    # tracks, after session.participants); its media and recording carry on.
    renegotiate: bool = False
    max_len: ClassVar[dict[str, int]] = {"sdp": MAX_SDP}


@inbound
@dataclass(frozen=True)
class MediaState(ClientMessage):
    """Microphone / camera switched on or off by the participant."""

    type: ClassVar[str] = "media.state"
    roles: ClassVar[frozenset[str]] = SESSION_ROLES
    audio: bool
    video: bool


@inbound
@dataclass(frozen=True)
class SessionEnd(ClientMessage):
    type: ClassVar[str] = "session.end"
    roles: ClassVar[frozenset[str]] = SESSION_ROLES
    outcome: Literal["completed", "incomplete", "cancelled"] = "completed"


@inbound
@dataclass(frozen=True)
class SessionLeave(ClientMessage):
    """A participant beyond the pair (colleague, inspector, observer) leaves; the
    session goes on. The applicant and the reviewer send session.end instead."""

    type: ClassVar[str] = "session.leave"
    roles: ClassVar[frozenset[str]] = SESSION_ROLES


@inbound
@dataclass(frozen=True)
class SessionInvite(ClientMessage):
    """The session's reviewer rings a colleague's desk (视频会商): a reviewer or
    supervisor account that is online and not in a session."""

    type: ClassVar[str] = "session.invite"
    roles: ClassVar[frozenset[str]] = frozenset({REVIEWER})
    account: str
    max_len: ClassVar[dict[str, int]] = {"account": 64}


@inbound
@dataclass(frozen=True)
class SessionInviteAnswer(ClientMessage):
    """The invited colleague accepts or declines a `session.invited`."""

    type: ClassVar[str] = "session.invite_answer"
    roles: ClassVar[frozenset[str]] = frozenset({REVIEWER, SUPERVISOR})
    invite_id: str
    accept: bool
    max_len: ClassVar[dict[str, int]] = {"invite_id": 32}


@inbound
@dataclass(frozen=True)
class DocCapture(ClientMessage):
    """Take a document-camera still of one checklist material of a linked case.

    The reviewer of the session, or the kiosk/agent on the applicant's side;
    the server checks the case is linked to the sender's session and the
    material is on its checklist, then tells the applicant side (`doc.take`)."""

    type: ClassVar[str] = "doc.capture"
    roles: ClassVar[frozenset[str]] = frozenset({KIOSK, AGENT, REVIEWER})
    case: str
    material: str
    max_len: ClassVar[dict[str, int]] = {"case": 32, "material": 64}


# Why the applicant side took or stored no still (doc.failed, doc.capture_failed):
# no_camera       no document camera chosen on this kiosk, or it cannot be opened
# camera_failed   the camera is there but gave no still
# too_large       the upload was refused as over the size limit (413)
# upload_refused  the upload was refused otherwise (the case closed, a wrong type, ...)
# upload_failed   the upload did not reach the server, or the server failed (5xx)
DocFailReason = Literal[
    "no_camera", "camera_failed", "too_large", "upload_refused", "upload_failed"
]


@inbound
@dataclass(frozen=True)
class SupervisionObserve(ClientMessage):
    """Supervisor: observe a live session (live spot check, 监督旁听). Audited; the
    participants are told 监督人员在线 when `supervision.announce_observer` is on.
    Ends with `supervision.unobserve`, the session's end or the socket's close."""

    type: ClassVar[str] = "supervision.observe"
    roles: ClassVar[frozenset[str]] = frozenset({SUPERVISOR})
    session_id: str
    max_len: ClassVar[dict[str, int]] = {"session_id": 64}


@inbound
@dataclass(frozen=True)
class DocFailed(ClientMessage):
    """The applicant side could not take or upload the still a `doc.take` asked for.

    Checked like `doc.capture` (linked case, checklist material, live call) and
    sent on to the session's reviewer as `doc.capture_failed`."""

    type: ClassVar[str] = "doc.failed"
    roles: ClassVar[frozenset[str]] = APPLICANT_ROLES
    case: str
    material: str
    reason_code: DocFailReason
    max_len: ClassVar[dict[str, int]] = {"case": 32, "material": 64}


@inbound
@dataclass(frozen=True)
class SupervisionUnobserve(ClientMessage):
    type: ClassVar[str] = "supervision.unobserve"
    roles: ClassVar[frozenset[str]] = frozenset({SUPERVISOR})
    session_id: str
    max_len: ClassVar[dict[str, int]] = {"session_id": 64}


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


# --------------------------------------------------------------------------
# validation


def _check_value(name: str, value: Any, tp: Any, limit: int) -> Any:
    origin = typing.get_origin(tp)
    if isinstance(tp, types.UnionType) or origin is typing.Union:
        for option in typing.get_args(tp):
            if option is type(None):
                if value is None:
                    return None
                continue
            try:
                return _check_value(name, value, option, limit)
            except ProtocolError:
                continue
        raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} has the wrong type")
    if origin is Literal:
        if value not in typing.get_args(tp):
            allowed = ", ".join(map(str, typing.get_args(tp)))
            raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} must be one of: {allowed}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} must be true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} must be an integer")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} must be a string")
        if len(value) > limit:
            raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} is longer than {limit}")
        return value
    raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} cannot be sent by clients")


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                break
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def load_frame(raw: str | bytes) -> Any:
    """json.loads with the nesting limit; ProtocolError(bad_json) otherwise."""
    try:
        data = json.loads(raw)
    except RecursionError:
        data = None
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError(ErrorCode.BAD_JSON, "message is not valid JSON") from None
    else:
        if _depth(data) <= MAX_DEPTH:
            return data
    raise ProtocolError(ErrorCode.BAD_JSON, f"message nests deeper than {MAX_DEPTH} levels")


def peek_type(raw: str | bytes) -> str | None:
    """The frame's `type` when it can be read (for `error.ref`), else None."""
    try:
        data = load_frame(raw)
    except ProtocolError:
        return None
    mtype = data.get("type") if isinstance(data, dict) else None
    return mtype[:MAX_REF] if isinstance(mtype, str) else None


def parse_inbound(raw: str | bytes, role: str) -> ClientMessage:
    """Parse and validate one inbound frame; raise ProtocolError with a code.

    Checks run in the documented order: JSON, object with a string type,
    known type, role, fields. State is the handler's business."""
    data = load_frame(raw)
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "message must be a JSON object")
    mtype = data.get("type")
    if not isinstance(mtype, str):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "message has no string 'type'")
    cls = INBOUND.get(mtype)
    if cls is None:
        raise ProtocolError(
            ErrorCode.UNKNOWN_TYPE, f"unknown message type {mtype[:40]!r}", mtype[:MAX_REF]
        )
    if role not in cls.roles:
        raise ProtocolError(ErrorCode.FORBIDDEN, f"role {role} may not send {mtype}", mtype)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields) - {"type", "id"}
    if unknown:
        name = sorted(unknown)[0][:40]
        raise ProtocolError(ErrorCode.BAD_FIELD, f"unknown field {name!r}", mtype)
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} is required", mtype)
            continue
        limit = cls.max_len.get(name, DEFAULT_MAX_STR)
        try:
            values[name] = _check_value(name, data[name], hints[name], limit)
        except ProtocolError as exc:
            raise ProtocolError(exc.code, exc.message, mtype) from None
    return cls(**values)


def error(code: ErrorCode, message: str, ref: str | None = None) -> Error:
    return Error(code=code.value, message=message, ref=ref)


__all__ = [
    "INBOUND",
    "OUTBOUND",
    "PROTOCOL_VERSION",
    "ClientMessage",
    "Message",
    "parse_inbound",
    "peek_type",
]
