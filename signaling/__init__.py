"""The signaling protocol: typed messages, validation and error codes.

The prose specification is PROTOCOL.md beside this file.
"""

from signaling.errors import ErrorCode, ProtocolError
from signaling.messages import INBOUND, OUTBOUND, PROTOCOL_VERSION, parse_inbound

__all__ = ["INBOUND", "OUTBOUND", "PROTOCOL_VERSION", "ErrorCode", "ProtocolError", "parse_inbound"]
