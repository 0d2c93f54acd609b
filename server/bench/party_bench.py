"""`remote-window bench --participants P`: server CPU per forwarded stream in
sessions of P participants, beside two-party sessions, in the same run.

Each session: a kiosk, a reviewer who calls it, and P - 2 colleagues the
reviewer invites (session.invite) who accept; everyone publishes one audio +
video stream and receives every other's (renegotiating on its pc as
session.participants says). A *forwarded stream* is one publisher's audio +
video to one subscriber: P * (P - 1) per session (2 at two parties, as in the
main bench). The clients run in this process and count complete encoded
frames instead of decoding video (the server's CPU is what is measured, by
/proc of its process); audio is decoded.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp

from server.bench import server_proc
from server.bench.party_client import Party, PartyPeer
from server.bench.runner import WARMUP_S, _cpu_seconds, _free_port
from server.bench.source import EncodedClip, vp8_clip
from signaling.client import SignalingClient, login


async def _staff(base: str, account: str, password: str, http: list) -> SignalingClient:
    session = aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True))
    http.append(session)
    await login(session, account, password)
    return await SignalingClient.connect(session)


async def _session(
    base: str, accounts: dict[str, Any], index: int, parties: int, clip: EncodedClip, http: list
) -> list[Party]:
    """One session of `parties` participants, all joined; returns them."""
    per = parties - 1  # reviewers per session: the caller and the colleagues
    names = accounts["reviewers"][index * per : (index + 1) * per]
    password = accounts["password"]
    kiosk_http = aiohttp.ClientSession(base_url=base)
    http.append(kiosk_http)
    kiosk_client = await SignalingClient.connect(kiosk_http, token=accounts["kiosks"][index])
    await kiosk_client.send(
        {"type": "queue.join", "item": server_proc.BENCH_ITEM, "recording_notice_shown": True}
    )
    await kiosk_client.expect("queue.status")
    desk_client = await _staff(base, names[0], password, http)
    kiosk = Party("kiosk", kiosk_client, PartyPeer(clip, decode_video=False))
    desk = Party("desk", desk_client, PartyPeer(clip, decode_video=False))
    await desk_client.send({"type": "desk.call_next"})
    await kiosk.message("session.paired")
    await desk.message("session.paired")
    await asyncio.gather(kiosk.offer(), desk.offer())
    out = [kiosk, desk]
    for name in names[1:]:
        client = await _staff(base, name, password, http)
        colleague = Party(name, client, PartyPeer(clip, decode_video=False))
        await desk_client.send({"type": "session.invite", "account": name})
        invited = await colleague.message("session.invited")
        await client.send(
            {"type": "session.invite_answer", "invite_id": invited["invite_id"], "accept": True}
        )
        await colleague.message("session.paired")
        await colleague.offer()
        out.append(colleague)
    return out


async def _all_flowing(parties: list[Party], frames: int = 15) -> None:
    holders = [p.roster["you"] if p.roster else None for p in parties]
    for party in parties:
        for other in holders:
            if other is None or (party.roster and other == party.roster["you"]):
                continue
            await party.wait_for_frames(other, "video", frames)


def _received(parties: list[Party]) -> int:
    return sum(sum(p.peer.per_track.values()) for p in parties)


def _per_line(parties: list[Party]) -> dict[Any, int]:
    return {(id(p), t): n for p in parties for t, n in p.peer.per_track.items()}


async def run_parties(
    parties: int, sessions: int, seconds: float, data_dir: Path
) -> dict[str, Any]:
    """Measure `sessions` sessions of `parties` participants on a fresh server."""
    port = _free_port()
    proc = await server_proc.spawn(data_dir, port, sessions * (parties - 1))
    base = f"http://127.0.0.1:{port}"
    accounts = server_proc.seeded(data_dir)
    clip = vp8_clip(640, 480, 1_000_000, 30)
    http: list[aiohttp.ClientSession] = []
    everyone: list[Party] = []
    try:
        for i in range(sessions):
            group = await _session(base, accounts, i, parties, clip, http)
            everyone += group
            if parties > 2:
                await _all_flowing(group)
            else:
                for party in group:
                    await party.peer.wait_decoded("video", 15)
        await asyncio.sleep(WARMUP_S)  # steady state before the window
        frames0, lines0 = _received(everyone), _per_line(everyone)
        cpu0, wall0 = _cpu_seconds(proc.pid), time.monotonic()
        own0 = time.process_time()
        await asyncio.sleep(seconds)  # the measured window
        cpu1, wall1 = _cpu_seconds(proc.pid), time.monotonic()
        own1 = time.process_time()
        frames1, lines1 = _received(everyone), _per_line(everyone)
    finally:
        for party in everyone:
            await party.close()
        for session in http:
            await session.close()
        proc.terminate()
        await proc.wait()
    cores = (cpu1 - cpu0) / (wall1 - wall0)
    span = wall1 - wall0
    rates: dict[str, list[float]] = {"audio": [], "video": []}
    for key, n in lines1.items():
        rates[key[1].kind].append((n - lines0.get(key, 0)) / span)
    forwarded = sessions * parties * (parties - 1)
    return {
        "participants": parties,
        "sessions": sessions,
        "published_streams": sessions * parties,
        "forwarded_streams": forwarded,
        "seconds": round(wall1 - wall0, 2),
        "server_cpu_cores": round(cores, 4),
        "server_cpu_per_forwarded_stream": round(cores / forwarded, 5),
        "server_cpu_per_published_stream": round(cores / (sessions * parties), 5),
        "frames_received_per_second": round((frames1 - frames0) / (wall1 - wall0), 1),
        # The clients share this one process: near 1 core, they are the limit.
        "client_cpu_cores": round((own1 - own0) / span, 3),
        # Per received line: the slowest and fastest (video 30/s, audio 50/s when all arrive).
        "line_fps": {k: [round(min(v), 1), round(max(v), 1)] for k, v in rates.items() if v},
    }


def table(runs: list[dict[str, Any]]) -> str:
    head = ("participants", "sessions", "published", "forwarded", "cores", "cores/forwarded",
            "cores/published", "frames/s received", "video fps min/max",
            "client cores")  # fmt: skip
    rows = [head] + [
        (
            str(r["participants"]),
            str(r["sessions"]),
            str(r["published_streams"]),
            str(r["forwarded_streams"]),
            f"{r['server_cpu_cores']:.3f}",
            f"{r['server_cpu_per_forwarded_stream']:.4f}",
            f"{r['server_cpu_per_published_stream']:.4f}",
            f"{r['frames_received_per_second']:.0f}",
            "/".join(str(x) for x in r["line_fps"].get("video", [])),
            f"{r['client_cpu_cores']:.2f}",
        )
        for r in runs
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )


async def bench_parties(
    participants: int, sessions: int, seconds: float, root: Path
) -> dict[str, Any]:
    """The two-party figure and the P-party figure, one after the other, same run."""
    runs = []
    for parties in (2, participants):
        folder = root / f"parties-{parties}"
        folder.mkdir(parents=True, exist_ok=True)
        runs.append(await run_parties(parties, sessions, seconds, folder))
    print(table(runs))
    two, many = runs
    ratio = many["server_cpu_per_forwarded_stream"] / max(
        two["server_cpu_per_forwarded_stream"], 1e-9
    )
    print(
        f"cores per forwarded stream: {two['server_cpu_per_forwarded_stream']:.4f} at 2 "
        f"participants, {many['server_cpu_per_forwarded_stream']:.4f} at {participants} "
        f"({ratio:.2f}x); passthrough, no transcode"
    )
    slow = [r for r in runs if r["line_fps"].get("video", [30])[0] < 28]
    if slow:
        print(
            "some received lines ran below 30 fps: the clients (one process, see client "
            "cores) could not keep up; use fewer --sessions for a clean figure"
        )
    return {"runs": runs, "ratio_per_forwarded_stream": round(ratio, 3)}
