"""How long a refused sign-in takes for a known account and for an unknown
username (they must not be told apart), measured against a real server.

    .venv/bin/python -m server.bench.login_timing [--samples 40]

Each case alternates known/unknown attempts from fresh loopback addresses
(so the address throttle never answers first) and prints the median and
90th percentile in milliseconds: wrong password, then locked.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from server import appkeys as K
from server.accounts import AccountDB
from server.app import create_app
from server.config import load_config
from server.eventloop import new_event_loop

PASSWORD = "Bench-pass-2026"


async def _attempt(url: str, ip: str, username: str) -> tuple[int, float]:
    connector = aiohttp.TCPConnector(local_addr=(ip, 0))
    async with aiohttp.ClientSession(base_url=url, connector=connector) as session:
        start = time.perf_counter()
        async with session.post(
            "/api/login", json={"username": username, "password": "Wrong-pass-99"}
        ) as resp:
            await resp.read()
            return resp.status, (time.perf_counter() - start) * 1000


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered):7.1f} ms   p90 {p90:7.1f} ms"


async def run(samples: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        cfg = load_config(
            demo=True,
            environ={},
            overrides={"server": {"data_dir": str(data)}, "auth": {"address_max_failures": 10**6}},
        )
        db = AccountDB(data / "register.sqlite3")
        db.add_user("known", PASSWORD, "supervisor")
        db.close()
        app = create_app(cfg)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        url = str(server.make_url("/")).rstrip("/")
        try:
            results: dict[str, dict[str, list[float]]] = {}
            for phase in ("wrong password", "locked"):
                times: dict[str, list[float]] = {"known": [], "unknown": []}
                for n in range(samples):
                    for who in ("known", "unknown"):
                        ip = f"127.1.{n // 250}.{n % 250 + 1}"
                        name = who if who == "known" else "nobody"
                        status, ms = await _attempt(url, ip, name)
                        times[who].append(ms)
                        expected = 401 if phase == "wrong password" else 423
                        assert status == expected, (phase, who, status)
                        if phase == "wrong password":  # never reach the lock here
                            await app[K.AUTH].limits.unlock(name)
                results[phase] = times
                if phase == "wrong password":  # now lock both
                    for who in ("known", "nobody"):
                        while (await _attempt(url, "127.2.0.1", who))[0] != 423:
                            pass
            print(f"login timing, {samples} samples per case (Argon2id verify each)")
            for phase, times in results.items():
                for who, values in times.items():
                    print(f"  {phase:<15} {who:<8} {_summary(values)}")
        finally:
            await server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    loop = new_event_loop()
    try:
        loop.run_until_complete(run(args.samples))
    finally:
        loop.close()


if __name__ == "__main__":
    main()
