"""JSON log lines with a request id; sensitive fields never reach a line.

Code passes context with `extra={...}`. Keys that could carry an ID number,
a password, a token or a face image path are dropped here, whatever the
caller passed, so one careless call cannot leak them.
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


def scrub(text: str) -> str:
    return _ID_NUMBER.sub("[id-number]", text)


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
        if record.exc_info:
            line["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if as_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
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
