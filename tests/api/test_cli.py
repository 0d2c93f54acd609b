"""The command line as an operator uses it (real subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from server.accounts import AccountDB
from tests.ports import free_port

CLI = [sys.executable, "-m", "server.cli"]


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_user_and_kiosk_add(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    done = _run(
        "user",
        "add",
        "wangmin",
        "--role",
        "reviewer",
        "--items",
        "SCJG-001,RSJ-001",
        "--password-stdin",
        "--data-dir",
        data,
        stdin="a-long-password\n",
    )
    assert done.returncode == 0, done.stderr
    bad = _run(
        "user",
        "add",
        "x",
        "--role",
        "reviewer",
        "--items",
        "NOPE-9",
        "--password-stdin",
        "--data-dir",
        data,
        stdin="a-long-password\n",
    )
    assert bad.returncode == 2 and "NOPE-9" in bad.stderr
    kiosk = _run("kiosk", "add", "城关镇 2 号窗口", "--place", "QH-CG", "--data-dir", data)
    assert kiosk.returncode == 0, kiosk.stderr
    token = kiosk.stdout.strip().splitlines()[-1]
    logged = [
        json.loads(line)
        for f in (Path(data) / "archive" / "system").glob("*.jsonl")
        for line in f.read_text().splitlines()
    ]
    assert [e["type"] for e in logged] == ["account.created", "kiosk.created"]
    assert logged[0]["data"] == {"username": "wangmin", "role": "reviewer"}
    assert token not in json.dumps(logged)
    db = AccountDB(Path(data) / "accounts.sqlite3")
    try:
        assert db.check_password("wangmin", "a-long-password") is not None
        found = db.kiosk_by_token(token)
        assert found is not None and found.place == "QH-CG"
    finally:
        db.close()


def test_serve_refuses_the_demo_secret(tmp_path: Path) -> None:
    done = _run("serve", "--data-dir", str(tmp_path))
    assert done.returncode == 2
    assert "server.secret" in done.stderr


def test_demo_starts_and_prints_urls(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*CLI, "demo", "--port", str(port), "--data-dir", str(tmp_path / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Reviewer desk:"):
                break
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}/kiosk?token=" in text
        assert "county-reviewer" in text and "demo-pass-2026" in text
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
            assert resp.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/catalogue", timeout=10) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()
