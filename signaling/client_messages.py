"""Client → server signaling messages (validated on arrival; PROTOCOL.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from signaling.message_base import (
    AGENT,
    APPLICANT_ROLES,
    KIOSK,
    MAX_SDP,
    REVIEWER,
    SESSION_ROLES,
    SUPERVISOR,
    ClientMessage,
    DocFailReason,
    inbound,
)

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
