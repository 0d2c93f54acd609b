"""deploy/: the systemd units pass `systemd-analyze verify`, the Redis config runs a
real redis-server with AOF on, coturn starts on its config with use-auth-secret,
and the compose demo passes `docker compose config`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from server import PROJECT_ROOT
from tests.ports import free_port
from tests.redis_server import start_redis
from tests.server_process import stop

DEPLOY = PROJECT_ROOT / "deploy"
SERVER_BIN = Path(sys.executable).parent / "remote-window"


def test_systemd_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze not found (Debian package systemd)"
    assert shutil.which("turnserver"), "coturn is missing: apt-get install coturn"
    template = (DEPLOY / "systemd" / "remote-window@.service").read_text()
    assert "ExecStart=/opt/remote-window/.venv/bin/remote-window serve" in template
    # verify checks that ExecStart exists: point it at this checkout's entry point.
    units = {
        "remote-window@8081.service": template.replace(
            "/opt/remote-window/.venv/bin/remote-window", str(SERVER_BIN)
        ),
        "remote-window.target": (DEPLOY / "systemd" / "remote-window.target").read_text(),
        "remote-window-turn.service": (
            DEPLOY / "systemd" / "remote-window-turn.service"
        ).read_text(),
    }
    for name, text in units.items():
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / n) for n in units)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Unknown or misspelt keys are only warnings: any output at all fails.
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    for hardening in ("NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet="):
        assert hardening in units["remote-window@8081.service"], hardening
    assert "PROMETHEUS_MULTIPROC_DIR=" in template and "RW_SERVER__PROCESS_ID=" in template


def test_redis_config_runs_with_aof(tmp_path: Path) -> None:
    port = free_port()
    proc = start_redis(tmp_path, port)
    try:
        with redis.Redis(port=port, decode_responses=True) as client:
            assert client.config_get("appendonly") == {"appendonly": "yes"}
            assert client.config_get("appendfsync") == {"appendfsync": "always"}
            assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
            assert client.info("persistence")["aof_enabled"] == 1
            client.set("rw:probe", "1")
        manifest = tmp_path / "appendonlydir" / "appendonly.aof.manifest"
        assert manifest.is_file()
        increments = list((tmp_path / "appendonlydir").glob("*.incr.aof"))
        assert increments and "rw:probe" in increments[0].read_text(errors="replace")
    finally:
        stop(proc)


def _stun_answers(port: int, proc: subprocess.Popen[bytes]) -> bool:
    request = bytes.fromhex("000100002112a442") + b"rw-turn-test"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        for _ in range(50):  # bounded: about 10 s
            if proc.poll() is not None:
                return False
            s.sendto(request, ("127.0.0.1", port))
            try:
                return bool(s.recvfrom(2048))
            except TimeoutError:
                continue
    return False


def test_coturn_starts_on_the_config_with_auth_secret(tmp_path: Path) -> None:
    binary = shutil.which("turnserver")
    assert binary, "coturn is missing: apt-get install coturn (./dev does this)"
    conf = DEPLOY / "coturn" / "turnserver.conf"
    lines = [line.strip() for line in conf.read_text().splitlines()]
    assert "use-auth-secret" in lines and any(x.startswith("static-auth-secret=") for x in lines)
    for attempt in range(3):  # a free port can be taken before coturn binds it
        port = free_port(udp=True)
        proc = subprocess.Popen(
            [
                binary,
                "-c",
                str(conf),
                # Only what a test run must change: loopback, free ports, own files.
                "--listening-ip=127.0.0.1",
                "--relay-ip=127.0.0.1",
                f"--listening-port={port}",
                "--no-tls",
                "--no-dtls",
                "--no-tcp",
                "--min-port=49700",
                "--max-port=49800",
                f"--userdb={tmp_path / f'db{attempt}'}",
                f"--pidfile={tmp_path / f'pid{attempt}'}",
                f"--log-file={tmp_path / f'turn{attempt}.log'}",
                "--no-stdout-log",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if _stun_answers(port, proc):
                break
        finally:
            stop(proc)
    else:
        pytest.fail("turnserver did not answer on its config")
    log = "".join(p.read_text(errors="replace") for p in tmp_path.glob("turn*.log"))
    assert "Bad configuration" not in log, log[-2000:]
    assert "Default realm: window.example.gov.cn" in log


def _compose() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        ).returncode
        == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_demo_config() -> None:
    compose = _compose()
    if compose is None:
        pytest.skip("docker compose is not installed here (apt-get install docker-compose)")
    # Only PATH and HOME of ours: the demo's variables must come from here, not the shell.
    plain = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    env = {**plain, "RW_SECRET": "s" * 40, "RW_TURN_SECRET": "t" * 40, "RW_DB_PASSWORD": "p" * 20}
    path = DEPLOY / "compose" / "docker-compose.yml"
    base = [*compose, "-f", str(path)]
    run = {"capture_output": True, "text": True, "timeout": 60, "check": False}
    done = subprocess.run([*base, "config", "-q"], env=env, **run)
    assert done.returncode == 0, done.stderr
    services = subprocess.run([*base, "config", "--services"], env=env, **run)
    assert set(services.stdout.split()) == {"redis", "postgres", "app1", "app2", "nginx", "coturn"}
    missing = subprocess.run([*base, "config", "-q"], env=plain, **run)
    assert missing.returncode != 0 and "RW_" in missing.stderr  # no demo secret by default
