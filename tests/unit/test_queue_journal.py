"""The memory store's queue journal: a restart keeps every acknowledged place."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.store import MemoryStore, TicketState
from server.store import journal as journal_module
from server.store.journal import JournalError

NOW = 1_800_000_000.0
GRACE = 60.0


async def _open(path: Path, now: float = NOW) -> MemoryStore:
    store = MemoryStore(path, restart_grace=GRACE, clock=lambda: now)
    await store.start()
    return store


async def _join(store: MemoryStore, holder: str, queue: str = "q", *, priority: bool = False):
    ticket, created = await store.enqueue(
        queue=queue,
        holder=holder,
        place="QH-CG",
        priority_class="elderly" if priority else "",
        priority=priority,
        now=NOW,
    )
    assert created
    return ticket


async def test_a_restart_restores_every_place_in_order(tmp_path: Path) -> None:
    path = tmp_path / "queue.journal"
    store = await _open(path)
    first = await _join(store, "kiosk:a")
    second = await _join(store, "kiosk:b")
    elder = await _join(store, "kiosk:c", priority=True)
    gone = await _join(store, "kiosk:d")
    await store.leave(gone.id)
    called = await store.call_next(["q"], "reviewer:r", "s-1", NOW + 5)
    assert called is not None and called.id == elder.id
    await store.set_connected(second.id, False, NOW + 30)
    await store.add_handling_time("q", 300, 3)
    await store.add_handling_time("q", 200, 3)
    await store.close()  # the next process opens the same file

    later = NOW + 1000
    restored = await _open(path, later)
    try:
        assert restored.restored == 3
        order = [t.id for t in await restored.waiting("q")]
        assert order == [elder.id, first.id, second.id]  # the called elder is back at the head
        for ticket in await restored.waiting("q"):
            assert ticket.state == TicketState.WAITING and ticket.reviewer is None
            assert not ticket.connected and ticket.grace_deadline == later + GRACE
        assert await restored.called() == []
        assert (await restored.ticket_of("kiosk:a")).id == first.id  # type: ignore[union-attr]
        assert await restored.ticket_of("kiosk:d") is None
        assert await restored.handling_times("q") == [200.0, 300.0]
        # Numbering carries on after the highest number ever given, even a left one.
        newcomer = await _join(restored, "kiosk:e")
        assert newcomer.seq > gone.seq
        # A returning kiosk reconnects to its place; one that does not is released.
        await restored.set_connected(first.id, True, None)
        expired = await restored.expire_grace(later + GRACE)
        assert {t.id for t in expired} == {elder.id, second.id}
    finally:
        await restored.close()

    again = await _open(path, later + 2000)
    try:
        assert [t.holder for t in await again.waiting("q")] == ["kiosk:a", "kiosk:e"]
    finally:
        await again.close()


async def test_a_torn_last_line_is_dropped_and_a_damaged_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "queue.journal"
    store = await _open(path)
    await _join(store, "kiosk:a")
    await store.close()
    with path.open("ab") as f:
        f.write(b'{"t":"put","ticket":{"id":"half')  # a crash in the middle of a write
    store = await _open(path)
    assert [t.holder for t in await store.waiting("q")] == ["kiosk:a"]
    await store.close()

    lines = path.read_bytes().splitlines()
    path.write_bytes(b"\n".join([lines[0], b"{not json", *lines[1:]]) + b"\n")
    with pytest.raises(JournalError, match="line 2 is damaged"):
        await _open(path)


async def test_two_processes_cannot_share_one_journal(tmp_path: Path) -> None:
    path = tmp_path / "queue.journal"
    store = await _open(path)
    try:
        with pytest.raises(JournalError, match="in use by another server process"):
            await _open(path)
    finally:
        await store.close()
    reopened = await _open(path)  # the lock went with the first store
    assert reopened.restored == 0
    await reopened.close()


async def test_the_journal_is_compacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_module, "COMPACT_AFTER_LINES", 20)
    path = tmp_path / "queue.journal"
    store = await _open(path)
    try:
        for i in range(100):
            ticket = await _join(store, f"kiosk:{i}")
            await store.set_connected(ticket.id, False, NOW + 10)
            await store.set_connected(ticket.id, True, None)
            if i % 10:
                await store.leave(ticket.id)
        assert len(path.read_bytes().splitlines()) <= 20 + 2 * 10 + 4
    finally:
        await store.close()
    restored = await _open(path)
    try:
        assert [t.holder for t in await restored.waiting("q")] == [
            f"kiosk:{i}" for i in range(0, 100, 10)
        ]
    finally:
        await restored.close()


async def test_ticket_numbers_continue_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "queue.journal"
    store = await _open(path)

    async def numbered(s: MemoryStore, holder: str, day: str = "20261203") -> str:
        ticket, _ = await s.enqueue(
            queue="q", holder=holder, place="QH-CG", priority_class="", priority=False,
            now=NOW, number_prefix="A", day=day,
        )  # fmt: skip
        return ticket.number

    assert [await numbered(store, "kiosk:a"), await numbered(store, "kiosk:b")] == ["A001", "A002"]
    gone = await store.ticket_of("kiosk:b")
    assert gone is not None
    await store.leave(gone.id)  # the counter does not depend on tickets still there
    await store.close()
    restored = await _open(path)
    try:
        kept = await restored.ticket_of("kiosk:a")
        assert kept is not None and kept.number == "A001"
        assert await numbered(restored, "kiosk:c") == "A003"
        assert await numbered(restored, "kiosk:d", day="20261204") == "A001"
    finally:
        await restored.close()
    # After compaction (the snapshot written at start) too.
    again = await _open(path)
    try:
        assert await numbered(again, "kiosk:e", day="20261204") == "A002"
    finally:
        await again.close()
