"""Every signaling message, defined once as a typed class.

Inbound (client → server) messages are validated on arrival: JSON shape,
known type, field types and lengths, and the roles allowed to send them.
Whether the sender may send it *now* (its state) is checked by the handler.
Outbound (server → client) messages are built from their classes so the
wire format has one source; PROTOCOL.md documents both directions. The
classes live in client_messages.py and server_messages.py (their base in
message_base.py); this module gathers them and holds the inbound parser.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from typing import Any, Literal

from signaling.client_messages import *  # noqa: F403  (every message, one import for callers)
from signaling.errors import ErrorCode, ProtocolError
from signaling.inspect_messages import *  # noqa: F403
from signaling.message_base import *  # noqa: F403
from signaling.message_base import (
    DEFAULT_MAX_STR,
    INBOUND,
    MAX_DEPTH,
    MAX_REF,
    OUTBOUND,
    PROTOCOL_VERSION,
    ClientMessage,
    Message,
)
from signaling.server_messages import *  # noqa: F403
from signaling.server_messages import Error

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
    if tp is float:
        # JSON from Python's parser may carry NaN and Infinity: never a usable number.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} must be a number")
        if not math.isfinite(value):
            raise ProtocolError(ErrorCode.BAD_FIELD, f"field {name!r} must be a finite number")
        return float(value)
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
