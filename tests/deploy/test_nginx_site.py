"""deploy/nginx: the site passes `nginx -t`, and run for real in front of a real
server it upgrades /ws, proxies the rest and keeps /metrics off the public address.
The compose demo's nginx.conf (same proxy rules) passes `nginx -t` too."""

from __future__ import annotations

import asyncio
import re
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from server import PROJECT_ROOT
from signaling.client import SignalingClient
from tests.conftest import RunningServer
from tests.deploy.certs import self_signed
from tests.ports import free_port
from tests.server_process import stop

NGINX_DIR = PROJECT_ROOT / "deploy" / "nginx"
COMPOSE_DIR = PROJECT_ROOT / "deploy" / "compose"


def _nginx() -> str:
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if binary is None:
        pytest.fail("nginx not found: apt-get install nginx (./dev does this as root)")
    return binary


def _main_conf(work: Path, site: str) -> Path:
    """An nginx.conf of our own around a site, everything under `work`."""
    work.mkdir(parents=True, exist_ok=True)
    snippets = work / "snippets"
    snippets.mkdir(exist_ok=True)
    shutil.copy(NGINX_DIR / "remote-window-locations.conf", snippets)
    cert, key = self_signed(work / "certs")
    site = site.replace("/etc/nginx/snippets", str(snippets))
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", site)
    site = re.sub(r"/var/log/nginx/", f"{work}/", site)
    (work / "site.conf").write_text(site)
    conf = work / "nginx.conf"
    conf.write_text(
        f"pid {work}/nginx.pid;\n"
        f"error_log {work}/error.log;\n"
        "worker_processes 1;\n"
        "events {}\n"
        "http {\n"
        f"    client_body_temp_path {work}/body;\n"
        f"    proxy_temp_path {work}/proxy;\n"
        f"    include {work}/site.conf;\n"
        "}\n"
    )
    return conf


def _check(conf: Path) -> None:
    done = subprocess.run(
        [_nginx(), "-t", "-p", str(conf.parent), "-c", str(conf), "-e", str(conf.parent / "e")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "[warn]" not in done.stderr and "[emerg]" not in done.stderr, done.stderr


def test_site_passes_nginx_t(tmp_path: Path) -> None:
    site = (NGINX_DIR / "remote-window.conf").read_text()
    upstream = re.search(r"upstream remote_window \{(.*?)\}", site, re.S)
    assert upstream and len(re.findall(r"^\s*server\s", upstream.group(1), re.M)) == 2
    assert "listen 443 ssl" in site and "return 301 https://" in site
    _check(_main_conf(tmp_path / "site", site))


def test_compose_nginx_conf_passes_nginx_t(tmp_path: Path) -> None:
    site = (COMPOSE_DIR / "nginx.conf").read_text()
    assert "app1:8080" in site and "app2:8080" in site
    # The compose service names only resolve inside the compose network.
    site = site.replace("app1:8080", "127.0.0.1:18081").replace("app2:8080", "127.0.0.1:18082")
    site = site.replace("/etc/nginx/certs/", "/etc/ssl/remote-window/")
    _check(_main_conf(tmp_path / "compose", site))


@pytest.fixture
def proxied(running: RunningServer, tmp_path: Path) -> Iterator[str]:
    """The repo's site run by nginx on free ports, both upstreams the test server."""
    site = (NGINX_DIR / "remote-window.conf").read_text()
    backend = f"127.0.0.1:{running.server.port}"
    site = re.sub(r"server 127\.0\.0\.1:808[12]", f"server {backend}", site)
    site = re.sub(r"^\s*listen \[::\].*$", "", site, flags=re.M)  # no IPv6 needed here
    http_port, https_port = free_port(), free_port()
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    conf = _main_conf(tmp_path / "live", site)
    _check(conf)
    proc = subprocess.Popen(
        [_nginx(), "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"https://127.0.0.1:{https_port}"
    finally:
        stop(proc)


async def _until_listening(http: aiohttp.ClientSession, base: str) -> None:
    for _ in range(100):  # bounded: nginx binds within a moment of starting
        try:
            async with http.get(f"{base}/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.05)  # the poll's interval, not synchronisation
    pytest.fail("nginx did not answer")


async def test_websocket_upgrade_and_plain_proxy_through_the_site(
    running: RunningServer, proxied: str, tmp_path: Path
) -> None:
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    connector = aiohttp.TCPConnector(ssl=insecure)
    async with aiohttp.ClientSession(base_url=proxied, connector=connector) as http:
        await _until_listening(http, proxied)
        async with http.get("/api/public/catalogue?token=probe-secret-123") as resp:
            assert resp.status == 200 and (await resp.json())["items"]
        async with http.get("/metrics") as resp:
            assert resp.status == 404  # scraped per process, never through the site
        kiosk = await SignalingClient.connect(http, token=running.kiosk_tokens["kiosk-1"])
        try:
            assert kiosk.welcome is not None and kiosk.welcome["role"] == "kiosk"
            await kiosk.send({"type": "ping"})
            await kiosk.expect("pong")
        finally:
            await kiosk.close()
    # The access log has the path, never the query (kiosks send their token there).
    logged = (tmp_path / "live" / "remote-window.access.log").read_text()
    assert "/api/public/catalogue" in logged and "probe-secret-123" not in logged
