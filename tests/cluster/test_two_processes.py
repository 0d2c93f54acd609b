"""Two real server processes sharing a real redis-server and PostgreSQL.

A kiosk on process A, a reviewer on process B: the session lives on B (the
caller's process); the kiosk's signaling is routed A → B and back, its media
goes to B. Then kill -9 of the owner during the call (the kiosk is told and
requeued at the head, the register has the interruption, a new start on B's
data dir seals the recording and `verify` passes), and kill -9 of the other
process during a wait (every acknowledged place survives, in order).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from recording.verify import main as verify_main
from server.bench.cluster_env import (
    Accounts,
    Node,
    free_port,
    nodes,
    postgres_database,
    redis_server,
    seed,
)
from server.bench.driver import Peer
from server.bench.source import vp8_clip
from tests.cluster.helpers import (
    CLUSTER_ENV,
    EXPIRY_S,
    HEARTBEAT_S,
    desk,
    interruption,
    join,
    kiosk,
    kv,
    process_id,
    seen,
    system_events,
    until,
)

pytestmark = pytest.mark.timeout(180)


@dataclass
class Cluster:
    a: Node
    b: Node
    accounts: Accounts
    redis_url: str
    database_url: str

    def restart(self, node: Node) -> Node:
        """A new process on the dead one's data dir (a new port: the old may linger)."""
        again = Node(node.name + "-again", node.data_dir, free_port(), node.redis_url,
                     node.database_url, node.env)  # fmt: skip
        return again.start()


@contextmanager
def two_processes(tmp_path: Path, env: dict[str, str], reviewers: int = 1) -> Iterator[Cluster]:
    with redis_server(tmp_path) as redis_url, postgres_database() as database_url:
        accounts = seed(database_url, reviewers=reviewers, kiosks=2, supervisors=1)
        a, b = nodes(tmp_path, 2, redis_url, database_url, env)
        started: list[Node] = []
        try:
            for node in (a, b):
                started.append(node.start())
            yield Cluster(a, b, accounts, redis_url, database_url)
        finally:
            for node in started:
                node.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with two_processes(tmp_path, CLUSTER_ENV) as made:
        yield made


def _folder(data_dir: Path, session_id: str) -> Path:
    [folder] = list((data_dir / "archive").glob(f"*/*/*/{session_id}"))
    return folder


async def test_session_across_processes_then_owner_killed(cluster: Cluster) -> None:
    acc = cluster.accounts
    clip = vp8_clip(160, 120, 150_000, 30)
    kiosk_peer, desk_peer = Peer(clip), Peer(clip)
    again: Node | None = None
    async with AsyncExitStack() as stack:
        stack.push_async_callback(kiosk_peer.close)
        stack.push_async_callback(desk_peer.close)
        k = await kiosk(stack, cluster.a, acc.kiosks[0])
        place = await join(k)
        d = await desk(stack, cluster.b, acc.reviewers[0], acc.password)
        await d.send({"type": "desk.call_next"})
        paired = await k.expect("session.paired", timeout=30)
        assert (await d.expect("session.paired", timeout=30))["session_id"] == paired["session_id"]
        sid = paired["session_id"]
        owner_b = process_id(cluster.redis_url, cluster.b)
        assert kv(cluster.redis_url, f"cluster:session:{sid}")["owner"] == owner_b

        # The kiosk's offer goes through A to B; the answer comes back the same way.
        await asyncio.gather(kiosk_peer.negotiate(k), desk_peer.negotiate(d))
        await kiosk_peer.wait_decoded("video", 30, within=30)
        await desk_peer.wait_decoded("video", 30, within=30)
        await until(lambda: seen(k, "session.state", state="live"), what="kiosk told live")
        await until(
            lambda: kv(cluster.redis_url, f"cluster:session:{sid}")["started"],
            what="the session's record marked live",
        )
        # A routed message answered by the owner: media.state reaches the desk.
        await k.send({"type": "media.state", "audio": False, "video": True})
        await until(
            lambda: any(
                m.get("type") == "session.state" and m["peer_media"]["audio"] is False
                for m in d.history
            ),
            what="the desk sees the kiosk muted",
        )

        # The kiosk page reloads: its new socket (on A again) is told of the session.
        k = await kiosk(stack, cluster.a, acc.kiosks[0])
        assert k.welcome is not None and k.welcome["resume"] == "session"
        assert (await k.expect("session.paired", timeout=20))["session_id"] == sid

        cluster.b.kill9()
        ended = await k.expect("session.ended", timeout=30)
        assert ended == {
            "type": "session.ended",
            "session_id": sid,
            "outcome": "server_lost",
            "by": "server",
        }
        status = await k.expect("queue.status", timeout=20)
        assert (status["ticket"], status["position"], status["state"]) == (
            place["ticket"],
            1,
            "waiting",
        )
        row = interruption(cluster.database_url, sid)
        assert row is not None and row["live"] and row["requeued"]
        assert row["process"] == owner_b
        [lost] = await until(
            lambda: system_events(cluster.a.data_dir, "cluster.process_lost"),
            what="A audits B's loss",
        )
        assert lost["data"]["process"] == owner_b and lost["data"]["requeued"] == 1

        # The next start on B's data dir seals what B recorded.
        assert (_folder(cluster.b.data_dir, sid) / ".open").exists()
        again = cluster.restart(cluster.b)
    try:
        folder = _folder(cluster.b.data_dir, sid)
        assert not (folder / ".open").exists()
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["outcome"] == "interrupted"
        assert verify_main([str(cluster.b.data_dir / "archive")]) == 0
        # Both processes' archives and system chains, each with its own key.
        assert verify_main([str(cluster.a.data_dir.parent)]) == 0
        [joined] = system_events(cluster.b.data_dir, "cluster.joined")[:1]
        assert joined["data"]["process"] == owner_b
    finally:
        again.stop()


async def test_other_process_killed_during_wait_keeps_every_place(cluster: Cluster) -> None:
    acc = cluster.accounts
    async with AsyncExitStack() as stack:
        first = await kiosk(stack, cluster.a, acc.kiosks[0])
        second = await kiosk(stack, cluster.a, acc.kiosks[1])
        places = [await join(first), await join(second)]
        assert [p["position"] for p in places] == [1, 2]
        d = await desk(stack, cluster.b, acc.reviewers[0], acc.password)
        owner_a = process_id(cluster.redis_url, cluster.a)

        cluster.a.kill9()
        await until(
            lambda: system_events(cluster.b.data_dir, "cluster.process_lost"),
            what="B notices A is gone",
        )
        [lost] = system_events(cluster.b.data_dir, "cluster.process_lost")
        assert lost["data"]["process"] == owner_a and lost["data"]["away"] == 2

        # Both come back on B: the same tickets, in the same order.
        back = [await kiosk(stack, cluster.b, token) for token in acc.kiosks]
        for client, place in zip(back, places, strict=True):
            assert client.welcome is not None and client.welcome["resume"] == "queue"
            # (A push computed just before the socket was back may still say "away".)
            await until(
                lambda c=client, p=place: (
                    (last := seen(c, "queue.status"))
                    and last["ticket"] == p["ticket"]
                    and last["state"] == "waiting"
                ),
                what="the same ticket, waiting again",
            )
        statuses = [seen(c, "queue.status") for c in back]
        assert [s["position"] for s in statuses if s] == [1, 2]
        await d.send({"type": "desk.call_next"})
        paired = await back[0].expect("session.paired", timeout=30)
        assert paired["ticket_number"] == places[0]["ticket_number"]

    again = cluster.restart(cluster.a)
    try:
        assert verify_main([str(cluster.a.data_dir.parent)]) == 0
    finally:
        again.stop()


async def test_a_stalled_owner_taken_for_dead_drops_its_sessions(cluster: Cluster) -> None:
    """SIGSTOP past the expiry: A settles B's session (kiosk requeued); B, resumed,
    finds it was taken for dead and drops the session without touching the ticket,
    so the kiosk is still first in line and is called again."""
    acc = cluster.accounts
    async with AsyncExitStack() as stack:
        k = await kiosk(stack, cluster.a, acc.kiosks[0])
        place = await join(k)
        d = await desk(stack, cluster.b, acc.reviewers[0], acc.password)
        await d.send({"type": "desk.call_next"})
        sid = (await k.expect("session.paired", timeout=30))["session_id"]
        assert cluster.b.proc is not None
        os.kill(cluster.b.proc.pid, signal.SIGSTOP)
        try:
            await k.expect("session.ended", timeout=30, outcome="server_lost")
            status = await k.expect("queue.status", timeout=20)
            assert (status["ticket"], status["position"]) == (place["ticket"], 1)
        finally:
            os.kill(cluster.b.proc.pid, signal.SIGCONT)
        [dropped] = await until(
            lambda: system_events(cluster.b.data_dir, "cluster.taken_for_dead"),
            what="B finds it was taken for dead",
        )
        assert dropped["data"]["sessions"] == [sid]
        await d.expect("session.ended", timeout=20, session_id=sid)
        await d.send({"type": "desk.call_next"})
        again = await k.expect("session.paired", timeout=30)
        assert again["session_id"] != sid and again["ticket_number"] == place["ticket_number"]


async def test_least_loaded_placement_puts_a_session_on_the_other_process(
    tmp_path: Path,
) -> None:
    """Everyone on A; with `least_loaded` the second call's session lives on B (A
    already carries one), and both its participants are routed there."""
    env = {**CLUSTER_ENV, "RW_CLUSTER__PLACEMENT": "least_loaded"}
    with two_processes(tmp_path, env, reviewers=2) as cluster:
        acc = cluster.accounts
        clip = vp8_clip(160, 120, 150_000, 30)
        peers = [Peer(clip), Peer(clip)]
        async with AsyncExitStack() as stack:
            for peer in peers:
                stack.push_async_callback(peer.close)
            kiosks = [await kiosk(stack, cluster.a, token) for token in acc.kiosks]
            for client in kiosks:
                await join(client)
            desks = [await desk(stack, cluster.a, r, acc.password) for r in acc.reviewers]
            owners = []
            for k, d in zip(kiosks, desks, strict=True):
                await d.send({"type": "desk.call_next"})
                sid = (await k.expect("session.paired", timeout=30))["session_id"]
                await d.expect("session.paired", timeout=30)
                owners.append(kv(cluster.redis_url, f"cluster:session:{sid}")["owner"])
                # Wait for the registry to carry the new load before the next call.
                await until(
                    lambda o=owners[-1]: kv(cluster.redis_url, f"cluster:proc:{o}")["load"] == 1,
                    what="the owner's load in the registry",
                )
            assert owners == [
                process_id(cluster.redis_url, cluster.a),
                process_id(cluster.redis_url, cluster.b),
            ]
            # The second session: kiosk and desk both on A, the media on B.
            await asyncio.gather(peers[0].negotiate(kiosks[1]), peers[1].negotiate(desks[1]))
            await peers[0].wait_decoded("video", 15, within=30)
            await peers[1].wait_decoded("video", 15, within=30)
            # The desk ends the call (routed to B): both told, B seals the recording.
            sid = seen(desks[1], "session.paired")["session_id"]
            await desks[1].send({"type": "session.end", "outcome": "completed"})
            for side in (kiosks[1], desks[1]):
                ended = await side.expect("session.ended", timeout=30, session_id=sid)
                assert (ended["outcome"], ended["by"]) == ("completed", "reviewer")
            folder = await until(
                lambda: [
                    f
                    for f in (cluster.b.data_dir / "archive").glob(f"*/*/*/{sid}")
                    if (f / "manifest.sig").exists() and not (f / ".open").exists()
                ],
                what="B seals the recording",
            )
            assert verify_main([str(folder[0])]) == 0
            assert kv(cluster.redis_url, f"cluster:session:{sid}") is None


async def test_a_supervisor_on_the_other_process_observes(tmp_path: Path) -> None:
    """supervision.observe names a session of another process: routed there, the
    observer joins it, and the answers reach the supervisor's own socket."""
    with two_processes(tmp_path, CLUSTER_ENV) as cluster:
        acc = cluster.accounts
        async with AsyncExitStack() as stack:
            k = await kiosk(stack, cluster.a, acc.kiosks[0])
            await join(k)
            d = await desk(stack, cluster.b, acc.reviewers[0], acc.password)
            await d.send({"type": "desk.call_next"})
            sid = (await d.expect("session.paired", timeout=30))["session_id"]
            s = await desk(stack, cluster.a, acc.supervisors[0], acc.password)
            await s.send({"type": "supervision.observe", "session_id": sid})
            told = await s.expect("session.observer", timeout=20, session_id=sid)
            assert told["observing"] is True
            paired = await until(lambda: seen(s, "session.paired", session_id=sid))
            assert paired["role"] == "supervisor"
            assert (await d.expect("session.observer", timeout=20))["observers"] == 1
            # The observer's next message is routed by its own pin now.
            await s.send({"type": "supervision.unobserve", "session_id": sid})
            await until(lambda: seen(s, "session.observer", observing=False), what="observing ends")


def _steady_for(redis_url: str, proc_id: str, seconds: float) -> bool:
    entry = kv(redis_url, f"cluster:proc:{proc_id}")
    return bool(entry) and entry["beat"] - entry["healthy_since"] > seconds


async def test_a_store_outage_longer_than_the_expiry_reaps_nobody(cluster: Cluster) -> None:
    """Redis stalls for longer than an entry lives: every entry expires at once, yet
    nobody died. No process reaps another; the waiting kiosk is called as usual."""
    acc = cluster.accounts
    async with AsyncExitStack() as stack:
        k = await kiosk(stack, cluster.a, acc.kiosks[0])
        place = await join(k)
        d = await desk(stack, cluster.b, acc.reviewers[0], acc.password)
        ids = [process_id(cluster.redis_url, node) for node in (cluster.a, cluster.b)]
        with redis.Redis.from_url(cluster.redis_url) as r:
            pid = int(r.info("server")["process_id"])
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(2 * EXPIRY_S)  # the outage itself, not synchronisation
        finally:
            os.kill(pid, signal.SIGCONT)
        # Both steady again for a while (several sweeps ran): nobody was taken for dead.
        window = EXPIRY_S + 4 * HEARTBEAT_S
        for proc_id in ids:
            await until(
                lambda p=proc_id: _steady_for(cluster.redis_url, p, window),
                what="both processes steady again",
            )
        for node in (cluster.a, cluster.b):
            assert system_events(node.data_dir, "cluster.process_lost") == []
        await d.send({"type": "desk.call_next"})
        paired = await k.expect("session.paired", timeout=30)
        assert paired["ticket_number"] == place["ticket_number"]


async def test_an_invited_colleague_on_the_other_process_joins(tmp_path: Path) -> None:
    """The reviewer (session on B) invites a colleague whose desk is on A: A's desk
    rings, its answer is routed to B, and the colleague is in the session."""
    with two_processes(tmp_path, CLUSTER_ENV, reviewers=2) as cluster:
        acc = cluster.accounts
        async with AsyncExitStack() as stack:
            k = await kiosk(stack, cluster.a, acc.kiosks[0])
            await join(k)
            d = await desk(stack, cluster.b, acc.reviewers[0], acc.password)
            colleague = await desk(stack, cluster.a, acc.reviewers[1], acc.password)
            await d.send({"type": "desk.call_next"})
            sid = (await d.expect("session.paired", timeout=30))["session_id"]
            await d.send({"type": "session.invite", "account": acc.reviewers[1]})
            ringing = await colleague.expect("session.invited", timeout=20, session_id=sid)
            await colleague.send(
                {"type": "session.invite_answer", "invite_id": ringing["invite_id"], "accept": True}
            )
            await d.expect("session.invite_result", timeout=20, result="accepted")
            paired = await until(lambda: seen(colleague, "session.paired", session_id=sid))
            assert paired["party"] == "colleague"
            assert kv(cluster.redis_url, f"cluster:holder:reviewer:{acc.reviewers[1]}") == {
                "session": sid,
                "owner": process_id(cluster.redis_url, cluster.b),
            }
