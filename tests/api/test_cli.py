"""The command line as an operator uses it (real subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from server.accounts import AccountDB
from tests.conftest import system_events
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
        stdin="A-long-password1\n",
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
        stdin="A-long-password1\n",
    )
    assert bad.returncode == 2 and "NOPE-9" in bad.stderr
    kiosk = _run("kiosk", "add", "城关镇 2 号窗口", "--place", "QH-CG", "--data-dir", data)
    assert kiosk.returncode == 0, kiosk.stderr
    token = kiosk.stdout.strip().splitlines()[-1]
    logged = system_events(Path(data) / "archive")
    assert [e["type"] for e in logged] == ["account.created", "kiosk.created"]
    assert logged[0]["data"] == {"username": "wangmin", "role": "reviewer"}
    assert token not in json.dumps(logged)
    db = AccountDB(Path(data) / "register.sqlite3")
    try:
        assert db.check_password("wangmin", "A-long-password1") is not None
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
            if line.startswith("Village agent (phone):"):
                break
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}/kiosk?token=" in text
        assert "county-reviewer" in text and "demo-pass-2026" in text
        assert "village-agent" in text and "township-admin" in text  # 乡村随身办
        assert (
            f"http://127.0.0.1:{port}/village" in text and f"http://127.0.0.1:{port}/points" in text
        )
        for role in ("sysadmin", "secadmin", "auditadmin"):  # 三员分立: one account each
            assert f"  {role:<10} {role:<16}" in text
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
            assert resp.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/catalogue", timeout=10) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()


def test_kiosk_list_and_revoke_and_user_disable(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    tokens = []
    for name in ("城关镇 1 号窗口", "城关镇 2 号窗口", "城关镇 2 号窗口"):
        done = _run("kiosk", "add", name, "--place", "QH-CG", "--data-dir", data)
        assert done.returncode == 0, done.stderr
        tokens.append(done.stdout.strip().splitlines()[-1])
    listed = _run("kiosk", "list", "--data-dir", data)
    rows = [line.split("\t") for line in listed.stdout.strip().splitlines()]
    assert len(rows) == 3 and {r[2] for r in rows} == {"active"}
    assert not any(t in listed.stdout for t in tokens)
    # A name two kiosks share is ambiguous: the error lists their ids.
    ambiguous = _run("kiosk", "revoke", "城关镇 2 号窗口", "--data-dir", data)
    assert ambiguous.returncode == 2 and "several kiosks" in ambiguous.stderr
    assert _run("kiosk", "revoke", "nope", "--data-dir", data).returncode == 2
    first = next(r for r in rows if r[3] == "城关镇 1 号窗口")
    assert _run("kiosk", "revoke", "城关镇 1 号窗口", "--data-dir", data).returncode == 0
    second = next(r for r in rows if r[3] == "城关镇 2 号窗口")
    assert _run("kiosk", "revoke", second[0], "--data-dir", data).returncode == 0
    states = {
        line.split("\t")[0]: line.split("\t")[2]
        for line in _run("kiosk", "list", "--data-dir", data).stdout.strip().splitlines()
    }
    assert states[first[0]] == states[second[0]] == "revoked"
    assert list(states.values()).count("active") == 1

    add = ("user", "add", "li", "--role", "supervisor", "--password-stdin", "--data-dir", data)
    assert _run(*add, stdin="First-password1\n").returncode == 0
    assert _run("user", "disable", "li", "--data-dir", data).returncode == 0
    assert "disabled" in _run("user", "list", "--data-dir", data).stdout
    assert _run("user", "enable", "li", "--data-dir", data).returncode == 0
    passwd = ("user", "passwd", "li", "--password-stdin", "--data-dir", data)
    assert _run(*passwd, stdin="short\n").returncode == 2
    assert _run(*passwd, stdin="Second-password2\n").returncode == 0
    assert _run("user", "disable", "nobody", "--data-dir", data).returncode == 2
    assert _run("user", "totp-reset", "li", "--data-dir", data).returncode == 0
    assert _run("user", "totp-reset", "nobody", "--data-dir", data).returncode == 2

    db = AccountDB(Path(data) / "register.sqlite3")
    try:
        assert db.kiosk_by_token(tokens[0]) is None and db.kiosk_by_token(tokens[1]) is None
        assert db.kiosk_by_token(tokens[2]) is not None
        assert db.check_password("li", "Second-password2") is not None
    finally:
        db.close()
    logged = [e["type"] for e in system_events(Path(data) / "archive")]
    assert logged.count("kiosk.revoked") == 2
    assert {"account.disabled", "account.enabled", "account.password_reset"} <= set(logged)
    assert logged.count("account.totp_reset") == 1
