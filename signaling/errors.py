"""Stable error codes of the signaling protocol (documented in PROTOCOL.md)."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_JSON = "bad_json"  # the frame is not JSON
    BAD_MESSAGE = "bad_message"  # JSON, but not an object with a string "type"
    UNKNOWN_TYPE = "unknown_type"  # no such message type
    BAD_FIELD = "bad_field"  # a field is missing, unknown, too long or of the wrong type
    FORBIDDEN = "forbidden"  # this role may not send this message
    WRONG_STATE = "wrong_state"  # allowed for the role, but not now
    NOT_FOUND = "not_found"  # the item, ticket or session named does not exist
    RATE_LIMITED = "rate_limited"  # too many messages; this one was dropped
    BINARY_NOT_ALLOWED = "binary_not_allowed"  # binary frames are not part of the protocol
    MEDIA_FAILED = "media_failed"  # the server could not answer the SDP offer
    INTERNAL = "internal"  # the server failed; the connection stays usable


class ProtocolError(Exception):
    """A message that cannot be accepted; becomes an `error` message."""

    def __init__(self, code: ErrorCode, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref
