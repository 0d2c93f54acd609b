"""TURN: the credentials the server hands out work against a real coturn; a
client forced to relay connects with them, and expired ones are refused."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiortc import RTCConfiguration, RTCIceServer
from aiortc.rtcconfiguration import RTCIceTransportPolicy

from server.bench.driver import Peer
from server.bench.source import vp8_clip
from server.ice import turn_credentials
from tests.conftest import make_config, start_server
from tests.ports import free_port
from tests.server_process import stop

SECRET = "turn-shared-secret-for-tests"
JOIN = {"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True}


def _answers_stun(port: int, proc: subprocess.Popen[bytes], within: float = 10) -> bool:
    """coturn answers a STUN binding request once it listens."""
    request = bytes.fromhex("000100002112a442") + b"rw-turn-test"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        for _ in range(int(within / 0.2)):
            if proc.poll() is not None:
                return False
            s.sendto(request, ("127.0.0.1", port))
            try:
                s.recvfrom(2048)
                return True
            except TimeoutError:
                continue
    return False


def _spawn_coturn(binary: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    workdir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            binary,
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={port}",
            "--min-port=49160",
            "--max-port=49999",
            "--use-auth-secret",
            f"--static-auth-secret={SECRET}",
            "--realm=remote-window.test",
            "--allow-loopback-peers",
            "--no-tcp",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--fingerprint",
            f"--pidfile={workdir / 'turn.pid'}",
            f"--log-file={workdir / 'turn.log'}",
            "--no-stdout-log",
            f"--userdb={workdir / 'turndb'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _log_tail(workdir: Path) -> str:
    """coturn names its log file itself (turn_<pid>_<date>.log beside the one asked for)."""
    logs = sorted(workdir.glob("turn*.log"))
    return "\n".join(log.read_text(errors="replace")[-2000:] for log in logs) or "(no log)"


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[int]:
    binary = shutil.which("turnserver")
    assert binary, "coturn is missing: apt-get install coturn (./dev does this)"
    # A port can still be taken between the check and coturn's bind, and coturn
    # then retries it forever; a second port settles that.
    for attempt in range(3):
        workdir = tmp_path / f"turn{attempt}"
        port = free_port(udp=True)
        proc = _spawn_coturn(binary, port, workdir)
        if _answers_stun(port, proc):
            break
        stop(proc)
    else:
        raise AssertionError(f"turnserver did not answer:\n{_log_tail(workdir)}")
    try:
        yield port
    finally:
        stop(proc)


def _relay_config(servers: list[dict]) -> RTCConfiguration:
    return RTCConfiguration(
        iceServers=[RTCIceServer(**s) for s in servers],
        iceTransportPolicy=RTCIceTransportPolicy.RELAY,
    )


async def test_relay_only_client_connects_with_issued_credentials(
    coturn: int, tmp_path: Path, accounts_template
) -> None:
    cfg = make_config(
        tmp_path / "d",
        ice={"urls": [f"turn:127.0.0.1:{coturn}?transport=udp"], "turn_secret": SECRET},
    )
    srv = await start_server(cfg, accounts_template)
    clip = vp8_clip(160, 120, 150_000, 30)
    try:
        kiosk, desk = await srv.pair()
        paired = kiosk.last["session.paired"]
        [turn] = paired["ice_servers"]
        expiry = int(turn["username"].split(":", 1)[0])
        assert turn["urls"] == [f"turn:127.0.0.1:{coturn}?transport=udp"]
        assert 0 < expiry - time.time() <= cfg.ice.turn_ttl_seconds + 5

        relayed = Peer(clip, _relay_config(paired["ice_servers"]))
        desk_peer = Peer(clip)
        try:
            await asyncio.gather(relayed.negotiate(kiosk), desk_peer.negotiate(desk))
            offer = relayed.pc.localDescription.sdp
            assert "typ relay" in offer and "typ host" not in offer
            async with asyncio.timeout(20):
                await relayed.first_video_event.wait()
                await desk_peer.first_video_event.wait()
        finally:
            await relayed.close()
            await desk_peer.close()
    finally:
        await srv.close()


async def test_expired_credentials_are_refused(
    coturn: int, tmp_path: Path, accounts_template
) -> None:
    username, password = turn_credentials(SECRET, "kiosk-1", ttl=-60)
    servers = [
        {
            "urls": [f"turn:127.0.0.1:{coturn}?transport=udp"],
            "username": username,
            "credential": password,
        }
    ]
    good_user, good_password = turn_credentials(SECRET, "kiosk-1", ttl=600)
    good = [{**servers[0], "username": good_user, "credential": good_password}]
    clip = vp8_clip(160, 120, 150_000, 30)
    expired_peer, fresh_peer = Peer(clip, _relay_config(servers)), Peer(clip, _relay_config(good))
    try:
        # Gathering with expired credentials yields no relay candidate at all.
        await expired_peer.pc.setLocalDescription(await expired_peer.pc.createOffer())
        assert "typ relay" not in expired_peer.pc.localDescription.sdp
        # The same server with fresh credentials does (so the refusal is the expiry).
        await fresh_peer.pc.setLocalDescription(await fresh_peer.pc.createOffer())
        assert "typ relay" in fresh_peer.pc.localDescription.sdp
    finally:
        await expired_peer.close()
        await fresh_peer.close()
