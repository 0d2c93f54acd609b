"""The pieces every signaling message is made of: roles, limits, the two base
classes and the registries that the inbound parser and the outbound tests read.
The messages themselves are in client_messages.py and server_messages.py;
signaling/messages.py gathers them with the parser."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

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


# Why the applicant side took or stored no still (doc.failed, doc.capture_failed):
# no_camera       no document camera chosen on this kiosk, or it cannot be opened
# camera_failed   the camera is there but gave no still
# too_large       the upload was refused as over the size limit (413)
# upload_refused  the upload was refused otherwise (the case closed, a wrong type, ...)
# upload_failed   the upload did not reach the server, or the server failed (5xx)
DocFailReason = Literal[
    "no_camera", "camera_failed", "too_large", "upload_refused", "upload_failed"
]
