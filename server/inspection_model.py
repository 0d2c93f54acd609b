"""What an inspection (云踏勘) is: its record, the token's hash, refusals in plain words.

The service that applies the rules is server/inspection.py; this module holds
the data and the words, so the HTTP side and the tests share them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from server.auth import INSPECTOR_TOKEN_PREFIX, Identity
from server.video_session import INSPECTOR

TOKEN_PREFIX = INSPECTOR_TOKEN_PREFIX
# Refusals, in plain words for the phone (zh-CN first).
REFUSALS: dict[str, tuple[str, str]] = {
    "unknown": (
        "这个踏勘链接无效，请向审批人员索取新的链接。",
        "This inspection link is not valid.",
    ),
    "expired": (
        "这个踏勘链接已过期，请向审批人员索取新的链接。",
        "This inspection link has expired. Ask the reviewer for a new one.",
    ),
    "ended": (
        "本次踏勘已经结束，链接不能再使用。",
        "This inspection has ended; the link cannot be used again.",
    ),
    "in_use": (
        "这个链接正在另一部手机上使用，不能同时使用两次。",
        "This link is in use on another phone; it cannot be used twice at once.",
    ),
    "other_case": (
        "这个踏勘链接属于另一个办件。",
        "This inspection link belongs to another case.",
    ),
}
CAPTURE_FAILED: dict[str, tuple[str, str]] = {
    "no_camera": (
        "踏勘人员的手机没有可用的摄像头，无法拍照。",
        "The inspector's phone has no camera.",
    ),
    "camera_failed": (
        "手机摄像头没有拍出照片，请再试一次。",
        "The phone's camera gave no picture.",
    ),
    "upload_refused": ("照片上传被拒绝。", "The server refused the picture."),
    "upload_failed": (
        "照片没有传到服务器，请检查手机网络。",
        "The picture did not reach the server.",
    ),
}
# Positions further from the server's clock than this are refused (ms).
MAX_CLOCK_SKEW_MS = 24 * 3600 * 1000
MAX_ACCURACY_M = 100_000.0
FORGET_AFTER_S = 24 * 3600


def words(table: dict[str, tuple[str, str]], code: str) -> dict[str, str]:
    zh, en = table[code]
    return {"zh": zh, "en": en}


class InspectionRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
        self.notice = words(REFUSALS, code)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Inspection:
    id: str
    token_sha256: str
    case: str
    item: str
    points: tuple[str, ...]
    session_id: str
    reviewer: str  # holder
    by: str  # the reviewer's account
    name: str  # the inspector's name as the reviewer typed it
    created_at: float
    expires_at: float
    state: str = "open"  # open → joined → ended
    device: str | None = None
    accepted_at: float | None = None
    last_fix: dict[str, Any] | None = None
    camera: bool = True  # the phone said it has a camera (inspect.join)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def holder(self) -> str:
        return f"{INSPECTOR}:{self.id}"

    def identity(self) -> Identity:
        return Identity(subject=self.id, role=INSPECTOR, name=self.name or "踏勘人员")

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case": self.case,
            "item": self.item,
            "points": list(self.points),
            "session_id": self.session_id,
            "name": self.name,
            "state": self.state,
            "expires_at": self.expires_at,
            "last_fix": self.last_fix,
        }
