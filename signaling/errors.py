"""Stable error codes of the signaling protocol (documented in PROTOCOL.md)."""

from __future__ import annotations

from enum import IntEnum, StrEnum


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


class CloseCode(IntEnum):
    """WebSocket close codes the server uses (documented in PROTOCOL.md)."""

    GOING_AWAY = 1001  # idle, no pong, or the server is shutting down
    POLICY_VIOLATION = 1008  # kept flooding past the rate limit
    MESSAGE_TOO_BIG = 1009  # a frame over signaling.max_message_bytes
    SERVER_FULL = 1013  # signaling.max_connections reached: try again later
    REPLACED = 4001  # a newer connection with the same kiosk token took over
    TOO_MANY_CONNECTIONS = 4002  # signaling.max_connections_per_account reached
    CREDENTIALS_ENDED = 4401  # signed out, expired, disabled, revoked...: the reason says which
