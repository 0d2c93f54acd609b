"""Tokens never reach the log, not even through aiohttp's own loggers."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

from server.logs import ScrubFilter, scrub
from tests.api.serve_proc import serve

TOKEN = "tok-SECRET-5f3a9c1e7b"
PASSWORD = "pw-SECRET-77aa"
ID_NUMBER = "11010519491231002X"


def _send(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_malformed_request_lines_do_not_log_their_token(tmp_path: Path) -> None:
    malformed = [
        f"GET /ws?token={TOKEN} HTTP/1.1 x\r\nHost: a\r\n\r\n",
        f"GET /kiosk?lang=en&token={TOKEN} HTTP/9.9\r\n\r\n",
        f"GET /ws?token={TOKEN}\x00 HTTP/1.1\r\nHost: a\r\n\r\n",
        f"GET /login?password={PASSWORD}&id={ID_NUMBER} HTTP/1.1 x\r\n\r\n",
        f"GET /ws HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer {TOKEN}\r\nBad Header: 1\r\n\r\n",
        f"GET /ws HTTP/1.1\r\nHost: a\r\nCookie: rw_session={TOKEN}\r\n\x01: x\r\n\r\n",
    ]
    with serve(tmp_path / "data") as served:
        for raw in malformed:
            answer = _send(served.port, raw.encode("latin-1"))
            assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0]
        # Well-formed requests carrying a token are logged without it, too.
        _send(
            served.port,
            f"GET /kiosk?token={TOKEN} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".encode(),
        )
    text = served.log_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    errors = [e for e in lines if e["logger"] == "aiohttp.server"]
    assert len(errors) >= len(malformed) - 1, text  # aiohttp did log them...
    assert any("token=[redacted]" in e.get("exc", "") for e in errors), errors
    for secret in (TOKEN, PASSWORD, ID_NUMBER):
        assert secret not in text  # ...without the secrets


def test_the_filter_scrubs_records_for_every_handler() -> None:
    """A handler someone else attaches (not ours) gets the scrubbed record too."""
    record = logging.LogRecord(
        "aiohttp.server", logging.ERROR, __file__, 1, "bad line %r", (f"/ws?token={TOKEN}",), None
    )
    try:
        raise ValueError(f"b'GET /ws?access_token={TOKEN} HTTP/1.1' {ID_NUMBER}")
    except ValueError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    assert ScrubFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "token=[redacted]" in text and "access_token=[redacted]" in text
    assert TOKEN not in text and ID_NUMBER not in text
    assert scrub(f'{{"password": "{PASSWORD}"}}') == '{"password": "[redacted]"}'
    assert scrub("tokens=3 left, basic checks") == "tokens=3 left, basic checks"
