"""Signaling messages of the mobile inspector (云踏勘), both directions (PROTOCOL.md).

The inspector's phone joins a session by a one-time token (server/inspection.py),
sends its position every few seconds and takes evidence stills when asked; the
reviewer's desk sees the positions and the stills as they come.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from signaling.message_base import INSPECTOR, REVIEWER, ClientMessage, Message, inbound, outbound

# Why the phone took or stored no evidence still (inspect.failed, inspect.capture_failed):
# no_camera       the phone has no camera, or it was refused or switched off
# camera_failed   the camera gave no still
# upload_refused  the server refused the upload (too large, wrong type, ended)
# upload_failed   the upload did not reach the server
InspectFailReason = Literal["no_camera", "camera_failed", "upload_refused", "upload_failed"]

# --------------------------------------------------------------------------
# client → server


@inbound
@dataclass(frozen=True)
class InspectJoin(ClientMessage):
    """The phone accepted the recording notice: join the session of its token."""

    type: ClassVar[str] = "inspect.join"
    roles: ClassVar[frozenset[str]] = frozenset({INSPECTOR})
    recording_notice_accepted: bool = False
    # Whether the phone has a camera track (false: a capture request is answered
    # `no_camera` at once). An audio-only phone on a weak network still has one.
    camera: bool = True


@inbound
@dataclass(frozen=True)
class InspectPosition(ClientMessage):
    """One position fix from the phone's geolocation (degrees, metres, ms since epoch)."""

    type: ClassVar[str] = "inspect.position"
    roles: ClassVar[frozenset[str]] = frozenset({INSPECTOR})
    lat: float
    lon: float
    accuracy: float
    time: float


@inbound
@dataclass(frozen=True)
class InspectCapture(ClientMessage):
    """Take an evidence still on the inspector's phone (the reviewer, or the
    inspector itself); `point` optionally names the checklist point it is for."""

    type: ClassVar[str] = "inspect.capture"
    roles: ClassVar[frozenset[str]] = frozenset({REVIEWER, INSPECTOR})
    point: str = ""
    max_len: ClassVar[dict[str, int]] = {"point": 64}


@inbound
@dataclass(frozen=True)
class InspectFailed(ClientMessage):
    """The phone could not take or upload the still an `inspect.take` asked for."""

    type: ClassVar[str] = "inspect.failed"
    roles: ClassVar[frozenset[str]] = frozenset({INSPECTOR})
    request_id: str
    reason_code: InspectFailReason
    max_len: ClassVar[dict[str, int]] = {"request_id": 32}


# --------------------------------------------------------------------------
# server → client


@outbound
@dataclass(frozen=True)
class InspectInfo(Message):
    """To the phone after `inspect.join`: its case, item and checklist points."""

    type: ClassVar[str] = "inspect.info"
    inspection_id: str
    case: str
    item: str
    points: list[str]
    stills_every_s: int


@outbound
@dataclass(frozen=True)
class InspectTake(Message):
    """To the phone: take a full-resolution still and upload it with `request_id`."""

    type: ClassVar[str] = "inspect.take"
    request_id: str
    point: str
    by: Literal["reviewer", "inspector", "periodic"]


@outbound
@dataclass(frozen=True)
class InspectFix(Message):
    """To the session's reviewer (and the phone): a validated position, with the
    server's clock, bearing and distance from the previous fix."""

    type: ClassVar[str] = "inspect.fix"
    inspection_id: str
    fix: dict[str, Any]


@outbound
@dataclass(frozen=True)
class InspectEvidence(Message):
    """An evidence still was stored (record of the evidence API)."""

    type: ClassVar[str] = "inspect.evidence"
    case: str
    evidence: dict[str, Any]


@outbound
@dataclass(frozen=True)
class InspectCaptureFailed(Message):
    """To the reviewer: no still will come, in plain words."""

    type: ClassVar[str] = "inspect.capture_failed"
    request_id: str
    reason_code: InspectFailReason
    notice: dict[str, str]


@outbound
@dataclass(frozen=True)
class InspectChecked(Message):
    """A checklist point was ticked with an evidence still (to the desk and the phone)."""

    type: ClassVar[str] = "inspect.checked"
    case: str
    point: str
    evidence: int
    by: str
