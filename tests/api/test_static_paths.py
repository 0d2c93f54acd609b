"""Odd static paths get a clear 404, never a 500 or a file from elsewhere."""

from __future__ import annotations

from tests.conftest import RunningServer


async def test_odd_static_paths_are_404(running: RunningServer) -> None:
    odd = [
        "/static/kiosk.js%00.html",
        "/static/kiosk.js%00",
        "/static/%00",
        "/static/%2e%2e/templates/kiosk.html",
        "/static/%2e%2e%2ftemplates%2fkiosk.html",
        "/static/..%2f..%2fpyproject.toml",
        "/static/..%5c..%5cpyproject.toml",
        "/static/%5c..%5ctemplates%5ckiosk.html",
        "/static/kiosk.js%5c",
        "/static/" + "a" * 300 + ".js",
        "/static/" + "a" * 5000,
        "/static/" + "/".join(["a"] * 400),
        "/static/%ff%fe.js",
        "/static/kiosk.js/",
        "/static/.",
    ]
    for path in odd:
        status, body = await running.raw_get(path)
        assert status == 404, (path, status, body[:200])
        assert b"import " not in body and b"<html" not in body.lower(), path
    status, body = await running.raw_get("/static/kiosk.js")
    assert status == 200 and b"import" in body
