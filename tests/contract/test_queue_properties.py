"""Random operation sequences against both stores, checked against a model.

Each hypothesis example runs in its own `asyncio.run` against a fresh store
(hypothesis and async fixtures do not mix).  For Redis, operations alternate
between two clients sharing one prefix, as two server processes would. The
journaled memory store also goes through restarts (a new store over the same
journal file, as after a crash).
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.store import MemoryStore, Store, Ticket, TicketState
from server.store.redis_store import RedisStore

HOLDERS = [f"kiosk-{i}" for i in range(6)]
QUEUES = ["a", "b", "c"]
REVIEWS = [("a",), ("b",), ("a", "b"), ("c", "a"), ("a", "b", "c")]
GRACES = [None, 0.0, 0.5, 1.0, 2.5]
STEPS = [0.0, 0.25, 0.5, 1.0, 3.0]
RESTART_GRACE = 2.0

holder = st.sampled_from(HOLDERS)
# Operations on an existing ticket name it by number: mostly a current holder
# (so they rarely miss), sometimes any holder, who may have no ticket.
target = st.integers(0, 9)
OPERATIONS = {  # kind: (argument strategies, weight)
    "join": ((holder, st.sampled_from(QUEUES), st.booleans()), 4),
    "disconnect": ((target, st.sampled_from(GRACES)), 3),
    "outage": ((st.sampled_from(GRACES),), 1),  # every holder drops at once
    "reconnect": ((target,), 1),
    "leave": ((target,), 1),
    "call": ((st.sampled_from(REVIEWS),), 2),
    "burst": ((st.sampled_from(REVIEWS), st.integers(2, 4)), 1),
    "requeue": ((target,), 1),
    "tick": ((st.sampled_from(STEPS),), 2),
    "expire": ((), 2),
    "restart": ((), 1),  # only where the store can restart (the journal)
}
operations = st.one_of(
    *(
        st.tuples(st.just(kind), *args)
        for kind, (args, weight) in OPERATIONS.items()
        for _ in range(weight)
    )
)


@dataclass
class Model:
    now: float = 1000.0
    tickets: dict[str, Ticket] = field(default_factory=dict)  # by holder
    last_seq: int = 0
    handed_out: Counter[str] = field(default_factory=Counter)
    requeued: Counter[str] = field(default_factory=Counter)

    def by_id(self, ticket_id: str) -> Ticket:
        return next(t for t in self.tickets.values() if t.id == ticket_id)

    def put(self, ticket: Ticket) -> None:
        self.tickets[ticket.holder] = ticket

    def candidates(self, queues: tuple[str, ...]) -> list[Ticket]:
        """Callable tickets in call order."""
        return sorted(
            (
                t
                for t in self.tickets.values()
                if t.queue in queues and t.state == TicketState.WAITING and t.connected
            ),
            key=lambda t: t.rank,
        )


def ticket_id(model: Model, name: str) -> str:
    ticket = model.tickets.get(name)
    return ticket.id if ticket else f"gone-{name}"


def resolve(model: Model, n: int) -> str:
    current = sorted(model.tickets)
    return current[n % len(current)] if current and n < 7 else HOLDERS[n % len(HOLDERS)]


@dataclass
class Backend:
    """Makes a fresh set of clients; `restart` replaces one by a new process's."""

    make: Callable[[], list[Store]]
    restart: Callable[[Store, float], Store] | None = None


async def apply(
    op: tuple, store: Store, clients: list[Store], model: Model, backend: Backend
) -> None:
    kind = op[0]
    if kind in ("leave", "disconnect", "reconnect", "requeue") and isinstance(op[1], int):
        op = (kind, resolve(model, op[1]), *op[2:])
    if kind == "join":
        _, name, queue, priority = op
        got, created = await store.enqueue(
            queue=queue,
            holder=name,
            place="p",
            priority_class="priority" if priority else "normal",
            priority=priority,
            now=model.now,
        )
        if name in model.tickets:
            assert (got, created) == (model.tickets[name], False), "one ticket per holder"
        else:
            assert created and got.state == TicketState.WAITING and got.connected
            assert (got.queue, got.priority, got.joined_at) == (queue, priority, model.now)
            assert got.seq > model.last_seq, "sequence is global and increasing"
            model.last_seq = got.seq
            model.put(got)
    elif kind == "leave":
        gone = await store.leave(ticket_id(model, op[1]))
        assert gone == model.tickets.pop(op[1], None)
    elif kind in ("disconnect", "reconnect"):
        connected = kind == "reconnect"
        deadline = None if connected or op[2] is None else model.now + op[2]
        got = await store.set_connected(ticket_id(model, op[1]), connected, deadline)
        old = model.tickets.get(op[1])
        expected = old and old.evolve(connected=connected, grace_deadline=deadline)
        assert got == expected
        if expected:
            model.put(expected)
    elif kind == "outage":
        for name in sorted(model.tickets):
            await apply(("disconnect", name, op[1]), store, clients, model, backend)
    elif kind == "restart":
        if backend.restart is None:
            return
        await store.close()
        new = backend.restart(store, model.now)
        await new.start()
        clients[clients.index(store)] = new
        for name, t in list(model.tickets.items()):
            if t.state == TicketState.CALLED:
                model.requeued[t.id] += 1  # its session died with the process
            model.tickets[name] = t.evolve(
                state=TicketState.WAITING,
                reviewer=None,
                session_id=None,
                called_at=None,
                connected=False,
                grace_deadline=model.now + RESTART_GRACE,
            )
    elif kind == "call":
        queues = op[1]
        got = await store.call_next(list(queues), "rev", "sess", model.now)
        best = model.candidates(queues)
        expected = best[0].id if best else None
        assert (got and got.id) == expected, "called ticket must be the best by rank"
        if got:
            record_call(model, got, "rev", "sess")
    elif kind == "burst":
        # Concurrent reviewers on several clients: the k best go out once each.
        queues, k = op[1], op[2]
        results = await asyncio.gather(
            *(
                clients[i % len(clients)].call_next(list(queues), f"r{i}", f"s{i}", model.now)
                for i in range(k)
            )
        )
        handed = [t for t in results if t is not None]
        best = model.candidates(queues)[:k]
        assert sorted(t.id for t in handed) == sorted(t.id for t in best)
        for t in handed:
            i = results.index(t)
            record_call(model, t, f"r{i}", f"s{i}")
    elif kind == "requeue":
        got = await store.requeue(ticket_id(model, op[1]))
        old = model.tickets.get(op[1])
        if old is None or old.state != TicketState.CALLED:
            assert got is None
        else:
            back = old.evolve(
                state=TicketState.WAITING, reviewer=None, session_id=None, called_at=None
            )
            assert got == back, "requeue keeps the original rank"
            model.requeued[back.id] += 1
            model.put(back)
    elif kind == "tick":
        model.now += op[1]
    elif kind == "expire":
        got = await store.expire_grace(model.now)
        expected = sorted(
            (
                t
                for t in model.tickets.values()
                if t.state == TicketState.WAITING
                and not t.connected
                and t.grace_deadline is not None
                and t.grace_deadline <= model.now
            ),
            key=lambda t: t.rank,
        )
        assert got == expected
        for t in expected:
            del model.tickets[t.holder]
    else:  # pragma: no cover - the strategy only makes the kinds above
        raise AssertionError(op)


def record_call(model: Model, got: Ticket, reviewer: str, session: str) -> None:
    old = model.by_id(got.id)
    assert old.state == TicketState.WAITING, "a called ticket was handed out again"
    assert got == old.evolve(
        state=TicketState.CALLED, reviewer=reviewer, session_id=session, called_at=model.now
    )
    model.handed_out[got.id] += 1
    assert model.handed_out[got.id] <= model.requeued[got.id] + 1
    model.put(got)


async def check_invariants(store: Store, model: Model) -> None:
    seen: list[str] = []
    for queue in QUEUES:
        waiting = await store.waiting(queue)
        expected = sorted(
            (t for t in model.tickets.values() if t.queue == queue and t.state == "waiting"),
            key=lambda t: t.rank,
        )
        assert waiting == expected, f"waiting({queue}) out of order or out of sync"
        seen += [t.id for t in waiting]
    called = await store.called()
    assert sorted(t.id for t in called) == sorted(
        t.id for t in model.tickets.values() if t.state == TicketState.CALLED
    )
    seen += [t.id for t in called]
    # No lost applicant, nobody twice: every live ticket is waiting xor called.
    assert sorted(seen) == sorted(t.id for t in model.tickets.values())
    for name in HOLDERS:
        assert await store.ticket_of(name) == model.tickets.get(name)


async def run(ops: list[tuple], backend: Backend) -> None:
    clients = backend.make()
    try:
        for client in clients:
            await client.start()
        model = Model()
        for step, op in enumerate(ops):
            await apply(op, clients[step % len(clients)], clients, model, backend)
            await check_invariants(clients[(step + 1) % len(clients)], model)
    finally:
        for client in clients:
            await client.close()


@pytest.fixture(scope="module", params=["memory", "journal", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """Fresh clients of one store per call: one MemoryStore (with a new journal
    file for "journal"), or two RedisStore clients sharing a new prefix."""
    if request.param == "memory":
        return Backend(lambda: [MemoryStore()])
    if request.param == "journal":
        root = tmp_path_factory.mktemp("journals")
        paths: dict[int, Path] = {}

        def journaled(path: Path, now: float = 0.0) -> MemoryStore:
            store = MemoryStore(path, restart_grace=RESTART_GRACE, clock=lambda: now)
            paths[id(store)] = path
            return store

        def fresh() -> list[Store]:
            return [journaled(Path(tempfile.mkdtemp(dir=root)) / "queue.journal")]

        return Backend(fresh, lambda old, now: journaled(paths.pop(id(old)), now))
    url = request.getfixturevalue("redis_url")

    def redis_clients() -> list[Store]:
        prefix = f"rwprop:{uuid.uuid4().hex[:12]}:"
        return [RedisStore(url, prefix=prefix), RedisStore(url, prefix=prefix)]

    return Backend(redis_clients)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(ops=st.lists(operations, min_size=10, max_size=50))
def test_random_queue_sequences_match_model(backend: Backend, ops: list[tuple]) -> None:
    asyncio.run(run(ops, backend))
