"""JSON log lines with a request id; sensitive fields never reach a line.

Code passes context with `extra={...}`. Keys that could carry an ID number,
a password, a token or a face image path are dropped here, whatever the
caller passed, so one careless call cannot leak them.

Text we do not write ourselves is scrubbed too: aiohttp's own loggers
(`aiohttp.server` logs a malformed request line, query string included, in
its traceback) get `ScrubFilter`, which rewrites the message, its arguments
and the exception text before any handler sees the record; the stderr
handler carries the same filter for every other logger (aiortc, aioice...).
Scrubbed: `token=`, `password=`, `secret=`, session cookies and similar
query or cookie values, `Bearer` credentials, JSON password/token fields,
and 18-digit resident ID numbers.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time

from aiohttp.abc import AbstractAccessLogger

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_SENSITIVE = re.compile(r"pass|token|secret|cookie|id_?number|id_?card|face|credential", re.I)
# An 18-digit resident ID number (the last may be X) anywhere in a message.
_ID_NUMBER = re.compile(r"\b\d{17}[\dXx]\b")
_SECRET_NAMES = (
    r"[A-Za-z0-9_]*(?:token|password|passwd|secret|credential)"
    r"|pwd|rw_session|session_?id|sid|csrf|signature|sig|api_?key"
)
# name=value in a query string, form body or cookie header (also %-encoded "=").
_ASSIGNED = re.compile(rf"(?i)(?<![A-Za-z0-9_])({_SECRET_NAMES})(=|%3D)[^&;\s'\"<>\\]*")
# "password": "..." in JSON (or a Python dict repr) quoted in a message.
_QUOTED = re.compile(rf"(?i)([\"']({_SECRET_NAMES})[\"']\s*:\s*)([\"'])(?:\\.|(?!\3).)*\3")
_BEARER = re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]{4,}")
REDACTED = "[redacted]"
# An inspector's one-time token (云踏勘), also where it is a path: /inspect/<token>.
_INSPECT_TOKEN = re.compile(r"\brwi_[A-Za-z0-9_-]+")


def scrub(text: str) -> str:
    """The text with tokens, passwords, session ids and ID numbers replaced."""
    text = _ASSIGNED.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _QUOTED.sub(lambda m: f"{m.group(1)}{m.group(3)}{REDACTED}{m.group(3)}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _INSPECT_TOKEN.sub(f"rwi_{REDACTED}", text)
    return _ID_NUMBER.sub("[id-number]", text)


class ScrubFilter(logging.Filter):
    """Rewrites a record in place so no handler can print a secret from it."""

    _plain = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_scrubbed", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, scrubbed
            message = f"{record.msg} {record.args}"
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._plain.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        record._scrubbed = True
        return True


SCRUB = ScrubFilter()
THIRD_PARTY_LOGGERS = (
    "aiohttp.access",
    "aiohttp.client",
    "aiohttp.internal",
    "aiohttp.server",
    "aiohttp.web",
    "aiohttp.websocket",
)


def scrub_third_party_loggers() -> None:
    """Attach `ScrubFilter` to aiohttp's loggers (idempotent)."""
    for name in THIRD_PARTY_LOGGERS:
        logger = logging.getLogger(name)
        if SCRUB not in logger.filters:
            logger.addFilter(SCRUB)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        rid = request_id.get()
        if rid:
            line["request_id"] = rid
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_") or _SENSITIVE.search(key):
                continue
            line[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_text or record.exc_info:
            line["exc"] = scrub(record.exc_text or self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if as_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SCRUB)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    scrub_third_party_loggers()
    for noisy in ("aioice", "aiortc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class AccessLogger(AbstractAccessLogger):
    """aiohttp access log without query strings (they may carry a token)."""

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request, response, duration: float) -> None:  # type: ignore[no-untyped-def]
        self.logger.info(
            "http",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "ms": round(duration * 1000, 1),
                "remote": request.remote,
            },
        )
