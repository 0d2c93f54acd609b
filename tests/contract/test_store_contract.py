"""The Store contract, run against MemoryStore and RedisStore alike."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from server.store import Store, Ticket, TicketState

StoreFactory = Callable[[], Awaitable[Store]]

NOW = 1_718_000_000.123456  # more digits than Redis' cjson keeps: must survive
# A ttl long enough that a slow CI step does not outlive it, short enough to wait for.
SHORT = 0.4


async def join(
    store: Store, holder: str, queue: str = "q", *, priority: bool = False, now: float = NOW
) -> Ticket:
    ticket, created = await store.enqueue(
        queue=queue,
        holder=holder,
        place=f"place-{holder}",
        priority_class="elderly" if priority else "normal",
        priority=priority,
        now=now,
    )
    assert created
    return ticket


async def call(store: Store, *queues: str, reviewer: str = "rev") -> Ticket | None:
    return await store.call_next(list(queues or ["q"]), reviewer, f"s-{reviewer}", NOW + 1)


async def holders(store: Store, queue: str = "q") -> list[str]:
    return [t.holder for t in await store.waiting(queue)]


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Poll until check() holds (for TTL expiry, which only time brings)."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def extra_clients(store: Store, backend: str, factory: StoreFactory, n: int) -> list[Store]:
    """The store plus, for Redis, n more clients of the same deployment."""
    return [store] + ([await factory() for _ in range(n)] if backend == "redis" else [])


# -- enqueue -----------------------------------------------------------------
async def test_enqueue_creates_waiting_ticket(store: Store) -> None:
    ticket = await join(store, "kiosk-1", "tax", priority=True)
    assert ticket.queue == "tax"
    assert ticket.holder == "kiosk-1"
    assert ticket.place == "place-kiosk-1"
    assert ticket.priority is True
    assert ticket.priority_class == "elderly"
    assert ticket.joined_at == NOW
    assert ticket.state == TicketState.WAITING
    assert ticket.connected is True
    assert ticket.grace_deadline is None
    assert ticket.reviewer is None and ticket.session_id is None and ticket.called_at is None
    assert await store.get_ticket(ticket.id) == ticket
    assert await store.ticket_of("kiosk-1") == ticket
    assert await store.get_ticket("nope") is None
    assert await store.ticket_of("nobody") is None


async def test_enqueue_is_idempotent_per_holder(store: Store) -> None:
    first = await join(store, "h", "a")
    again, created = await store.enqueue(
        queue="b", holder="h", place="elsewhere", priority_class="x", priority=True, now=NOW + 9
    )
    assert created is False
    assert again == first
    assert await holders(store, "a") == ["h"]
    assert await store.waiting("b") == []
    # Also while called: still the same ticket.
    called = await call(store, "a")
    assert called is not None
    again, created = await store.enqueue(
        queue="a", holder="h", place="p", priority_class="normal", priority=False, now=NOW
    )
    assert (again, created) == (called, False)
    # After leaving, the holder gets a fresh ticket with a later sequence number.
    await store.leave(first.id)
    fresh = await join(store, "h", "a")
    assert fresh.id != first.id and fresh.seq > first.seq


async def test_concurrent_enqueue_of_one_holder_gives_one_ticket(
    store: Store, backend: str, store_factory: StoreFactory
) -> None:
    clients = await extra_clients(store, backend, store_factory, 3)
    results = await asyncio.gather(
        *(
            c.enqueue(queue="q", holder="h", place="p", priority_class="n", priority=False, now=i)
            for i, c in enumerate(clients * 5)
        )
    )
    assert sum(created for _, created in results) == 1
    assert len({t.id for t, _ in results}) == 1
    assert await holders(store) == ["h"]


async def _numbered(store: Store, holder: str, queue: str = "q", day: str = "20261203") -> str:
    ticket, created = await store.enqueue(
        queue=queue,
        holder=holder,
        place="p",
        priority_class="normal",
        priority=False,
        now=NOW,
        number_prefix="A" if queue == "q" else "B",
        day=day,
    )
    assert created
    assert await store.get_ticket(ticket.id) == ticket
    return ticket.number


async def test_ticket_numbers_count_per_queue_and_day(
    store: Store, backend: str, store_factory: StoreFactory
) -> None:
    assert [await _numbered(store, f"h{i}") for i in range(3)] == ["A001", "A002", "A003"]
    assert await _numbered(store, "other", "r") == "B001"  # each queue counts on its own
    # Leaving does not give a number back; joining again gets the next one.
    first = await store.ticket_of("h0")
    assert first is not None and first.number == "A001"
    await store.leave(first.id)
    assert await _numbered(store, "h0") == "A004"
    again, created = await store.enqueue(
        queue="q", holder="h0", place="p", priority_class="normal", priority=False, now=NOW,
        number_prefix="A", day="20261203",
    )  # fmt: skip
    assert not created and again.number == "A004"
    # A new day starts at 1 again.
    assert await _numbered(store, "next-day", day="20261204") == "A001"
    # Several processes joining at once never share a number.
    clients = await extra_clients(store, backend, store_factory, 3)
    numbers = await asyncio.gather(
        *(_numbered(c, f"c{i}", day="20261205") for i, c in enumerate(clients * 4))
    )
    assert sorted(numbers) == [f"A{n:03d}" for n in range(1, len(numbers) + 1)]
    # Without a prefix there is no number.
    plain = await join(store, "plain")
    assert plain.number == ""


async def test_order_is_priority_first_then_fifo(store: Store) -> None:
    n1 = await join(store, "n1")
    p1 = await join(store, "p1", priority=True)
    other = await join(store, "o1", "other")
    n2 = await join(store, "n2")
    p2 = await join(store, "p2", priority=True)
    assert n1.seq < p1.seq < other.seq < n2.seq < p2.seq  # one global sequence
    assert await holders(store) == ["p1", "p2", "n1", "n2"]
    assert [t.rank for t in await store.waiting("q")] == sorted(t.rank for t in (n1, p1, n2, p2))
    assert [(await call(store)).holder for _ in range(4)] == ["p1", "p2", "n1", "n2"]  # type: ignore[union-attr]
    assert await call(store) is None


# -- call_next ---------------------------------------------------------------
async def test_call_next_picks_best_rank_across_queues(store: Store) -> None:
    await join(store, "a-n1", "a")
    await join(store, "b-n1", "b")
    await join(store, "b-p1", "b", priority=True)
    await join(store, "c-p1", "c", priority=True)  # not asked for
    await join(store, "a-n2", "a")
    got = [await call(store, "a", "b") for _ in range(5)]
    assert [t.holder if t else None for t in got] == ["b-p1", "a-n1", "b-n1", "a-n2", None]
    assert await holders(store, "c") == ["c-p1"]
    assert await store.call_next([], "rev", "s", NOW) is None


async def test_call_next_marks_ticket_called(store: Store) -> None:
    ticket = await join(store, "h")
    got = await store.call_next(["q"], "rev-7", "sess-7", NOW + 0.25)
    assert got == ticket.evolve(
        state=TicketState.CALLED, reviewer="rev-7", session_id="sess-7", called_at=NOW + 0.25
    )
    assert await store.get_ticket(ticket.id) == got
    assert await store.ticket_of("h") == got
    assert await store.waiting("q") == []
    assert await store.called() == [got]


async def test_call_next_skips_disconnected(store: Store) -> None:
    t1 = await join(store, "h1")
    await join(store, "h2")
    assert (await store.set_connected(t1.id, False, NOW + 30)) is not None
    assert (await call(store)).holder == "h2"  # type: ignore[union-attr]
    assert await holders(store) == ["h1"]  # still waiting, keeping its place
    assert await call(store) is None
    await store.set_connected(t1.id, True, None)
    assert (await call(store)).holder == "h1"  # type: ignore[union-attr]


async def test_ticket_is_never_handed_out_twice(
    store: Store, backend: str, store_factory: StoreFactory
) -> None:
    clients = await extra_clients(store, backend, store_factory, 3)
    tickets = [await join(store, f"h{i}", "ab"[i % 2], priority=i % 3 == 0) for i in range(10)]
    results = await asyncio.gather(
        *(
            clients[i % len(clients)].call_next(["a", "b"], f"rev{i}", f"s{i}", NOW)
            for i in range(20)
        )
    )
    handed = [t for t in results if t is not None]
    assert sorted(t.id for t in handed) == sorted(t.id for t in tickets)
    assert results.count(None) == 10
    for t in handed:  # each ticket went to exactly the caller that got it
        assert (await store.get_ticket(t.id)) == t
    assert len(await store.called()) == 10


# -- requeue / leave ---------------------------------------------------------
async def test_requeue_keeps_original_rank(store: Store) -> None:
    t1 = await join(store, "h1")
    await join(store, "h2")
    called = await call(store)
    assert called is not None and called.id == t1.id
    await join(store, "h3")
    back = await store.requeue(t1.id)
    assert back == t1  # original seq and join time, reviewer fields cleared
    assert await store.called() == []
    assert await holders(store) == ["h1", "h2", "h3"]
    assert (await call(store)).id == t1.id  # type: ignore[union-attr]


async def test_requeue_only_called_tickets(store: Store) -> None:
    t1 = await join(store, "h1")
    assert await store.requeue(t1.id) is None
    assert await store.requeue("missing") is None
    assert await store.get_ticket(t1.id) == t1


async def test_leave_in_any_state(store: Store) -> None:
    waiting = await join(store, "w", "a")
    gone = await join(store, "d", "a")
    gone = await store.set_connected(gone.id, False, NOW + 5)
    called_t = await join(store, "c", "b")
    called_t = await call(store, "b")
    for ticket in (waiting, gone, called_t):
        assert ticket is not None
        assert await store.leave(ticket.id) == ticket
        assert await store.get_ticket(ticket.id) is None
        assert await store.ticket_of(ticket.holder) is None
        assert await store.leave(ticket.id) is None
    assert await store.waiting("a") == [] and await store.waiting("b") == []
    assert await store.called() == []
    assert await store.expire_grace(NOW + 100) == []
    assert (await join(store, "d", "a")).id != gone.id  # type: ignore[union-attr]


# -- connection and grace ----------------------------------------------------
async def test_set_connected_tracks_grace(store: Store) -> None:
    t = await join(store, "h")
    off = await store.set_connected(t.id, False, NOW + 30.5)
    assert off == t.evolve(connected=False, grace_deadline=NOW + 30.5)
    assert await store.get_ticket(t.id) == off
    on = await store.set_connected(t.id, True, NOW + 99)
    assert on == t  # reconnecting clears the deadline
    assert await store.set_connected("missing", False, NOW) is None


async def test_expire_grace_removes_only_expired_waiting(store: Store) -> None:
    a = await join(store, "a")
    b = await join(store, "b")
    c = await join(store, "c")
    d = await join(store, "d")
    e = await join(store, "e", priority=True)
    f = await join(store, "f")
    g = await join(store, "g")
    await store.set_connected(g.id, False, NOW + 10)
    await store.set_connected(a.id, False, NOW + 10)
    await store.set_connected(b.id, False, NOW + 20)
    await store.set_connected(c.id, False, None)  # no deadline: never expires
    await store.set_connected(e.id, False, NOW + 10)
    f_called = await call(store)
    assert f_called is not None and f_called.id == d.id  # first connected one
    await store.set_connected(d.id, False, NOW + 1)  # called: not expired
    await store.set_connected(f.id, False, NOW + 1)
    await store.set_connected(f.id, True, None)  # back in time: not expired
    assert await store.expire_grace(NOW + 9.5) == []
    expired = await store.expire_grace(NOW + 10)  # deadline is inclusive
    assert [t.holder for t in expired] == ["e", "a", "g"]  # in rank order
    assert [t.state for t in expired] == [TicketState.WAITING] * 3
    assert expired[0] == e.evolve(connected=False, grace_deadline=NOW + 10)
    assert await store.ticket_of("a") is None and await store.get_ticket(e.id) is None
    assert [t.holder for t in await store.expire_grace(NOW + 1000)] == ["b"]
    assert await holders(store) == ["c", "f"]
    assert [t.id for t in await store.called()] == [d.id]
    # A called, disconnected ticket that is requeued becomes expirable.
    await store.requeue(d.id)
    assert [t.holder for t in await store.expire_grace(NOW + 1000)] == ["d"]
    assert await holders(store) == ["c", "f"]


# -- handling times ----------------------------------------------------------
async def test_handling_times_window_and_order(store: Store) -> None:
    assert await store.handling_times("q") == []
    for seconds in (1, 2.5, 3, 4):
        await store.add_handling_time("q", seconds, 3)
    await store.add_handling_time("other", 0.1, 3)
    assert await store.handling_times("q") == [4.0, 3.0, 2.5]
    assert await store.handling_times("other") == [0.1]
    await store.add_handling_time("q", 5, 2)  # a smaller window keeps the newest
    assert await store.handling_times("q") == [5.0, 4.0]
    await store.add_handling_time("q", 6, 4)
    await store.add_handling_time("q", 7, 4)
    assert await store.handling_times("q") == [7.0, 6.0, 5.0, 4.0]


# -- key/value and sets --------------------------------------------------------
async def test_kv_get_set_delete(store: Store) -> None:
    assert await store.kv_get("k") is None
    await store.kv_set("k", "v1")
    await store.kv_set("k", "v2 ✓")
    assert await store.kv_get("k") == "v2 ✓"
    await store.kv_delete("k")
    await store.kv_delete("k")
    assert await store.kv_get("k") is None


async def test_kv_ttl_expires(store: Store) -> None:
    await store.kv_set("short", "x", ttl=SHORT)
    await store.kv_set("long", "y", ttl=60)
    assert await store.kv_get("short") == "x"
    await eventually(lambda: _is_none(store.kv_get("short")))
    assert await store.kv_get("long") == "y"


async def _is_none(value: Awaitable[Any]) -> bool:
    return (await value) is None


async def test_kv_incr_ttl_starts_at_first_increment(store: Store) -> None:
    assert await store.kv_incr("n", SHORT) == 1
    assert await store.kv_incr("n", 60) == 2  # does not extend the ttl
    assert await store.kv_get("n") == "2"
    await eventually(lambda: _is_none(store.kv_get("n")))
    assert await store.kv_incr("n", 60) == 1
    await store.kv_set("plain", "5")
    assert await store.kv_incr("plain", 0.05) == 6


async def test_kv_expire(store: Store) -> None:
    assert await store.kv_expire("missing", 10) is False
    await store.kv_set("k", "v", ttl=SHORT)
    assert await store.kv_expire("k", 60) is True  # extended
    await store.kv_set("canary", "c", ttl=SHORT)  # set later, same short ttl
    await eventually(lambda: _is_none(store.kv_get("canary")))
    assert await store.kv_get("k") == "v"
    assert await store.kv_expire("k", 0.05) is True
    await eventually(lambda: _is_none(store.kv_get("k")))


async def test_sets(store: Store) -> None:
    assert await store.set_members("s") == set()
    await store.set_add("s", "a", 60)
    await store.set_add("s", "b", 60)
    await store.set_add("s", "a", 60)
    assert await store.set_members("s") == {"a", "b"}
    await store.set_remove("s", "a")
    await store.set_remove("s", "zzz")
    await store.set_remove("missing", "a")
    assert await store.set_members("s") == {"b"}
    await store.kv_set("s", "kv value")  # sets and kv keys do not collide
    assert await store.set_members("s") == {"b"}
    assert await store.kv_get("s") == "kv value"


async def test_set_ttl_restarts_on_add(store: Store) -> None:
    await store.set_add("s", "a", SHORT)
    await store.set_add("s", "b", 60)
    await store.set_add("canary", "c", SHORT)
    await eventually(lambda: _is_empty(store.set_members("canary")))
    assert await store.set_members("s") == {"a", "b"}


async def _is_empty(value: Awaitable[set[str]]) -> bool:
    return not await value


# -- fan-out -----------------------------------------------------------------
def collector() -> tuple[asyncio.Queue[dict[str, Any]], Callable[[dict[str, Any]], Any]]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def handler(message: dict[str, Any]) -> None:
        queue.put_nowait(message)

    return queue, handler


async def next_message(queue: asyncio.Queue[dict[str, Any]]) -> dict[str, Any]:
    return await asyncio.wait_for(queue.get(), timeout=5)


async def test_publish_reaches_every_subscriber_until_closed(
    store: Store, backend: str, store_factory: StoreFactory
) -> None:
    # For Redis, subscribers and publisher sit in different clients ("processes").
    sub_a, sub_b, publisher = (await extra_clients(store, backend, store_factory, 2) * 3)[:3]
    q1, h1 = collector()
    q2, h2 = collector()
    q3, h3 = collector()
    s1 = await sub_a.subscribe("room", h1)
    s2 = await sub_b.subscribe("room", h2)
    s3 = await sub_a.subscribe("other", h3)
    message = {"type": "state", "n": 1, "nested": {"list": [1, 2.5, None]}, "text": "窗口"}
    await publisher.publish("room", message)
    assert await next_message(q1) == message
    assert await next_message(q2) == message
    await publisher.publish("other", {"n": "other"})
    assert await next_message(q3) == {"n": "other"}  # first thing "other" saw

    await s1.close()
    await s1.close()  # idempotent
    await publisher.publish("room", {"n": 2})
    await publisher.publish("room", {"n": 3})
    assert await next_message(q2) == {"n": 2}
    assert await next_message(q2) == {"n": 3}
    # Deliveries start in publish order, so had s1 still been subscribed its
    # copies would have been queued before h2 saw n=3.
    assert q1.empty()
    await s2.close()
    await s3.close()


async def test_failing_subscriber_is_logged_and_does_not_stop_delivery(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    queue, good = collector()

    async def bad(message: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    await store.subscribe("ch", bad)
    await store.subscribe("ch", good)
    await store.publish("ch", {"n": 1})
    await store.publish("ch", {"n": 2})
    assert await next_message(queue) == {"n": 1}
    assert await next_message(queue) == {"n": 2}
    # bad's deliveries were started before good's, so both have run by now.
    # The store logs them itself (not asyncio's "exception never retrieved").
    logged = [r for r in caplog.records if r.exc_info and r.name.startswith("server.store")]
    assert [str(r.exc_info[1]) for r in logged] == ["handler bug"] * 2  # type: ignore[index]


async def test_resubscribe_after_last_subscriber_left(store: Store) -> None:
    q1, h1 = collector()
    sub = await store.subscribe("ch", h1)
    await sub.close()
    q2, h2 = collector()
    await store.subscribe("ch", h2)
    await store.publish("ch", {"n": 1})
    assert await next_message(q2) == {"n": 1}
    assert q1.empty()
