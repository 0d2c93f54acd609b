"""The bench puts join times together per server session, whoever's kiosk it was."""

from __future__ import annotations

import pytest

from server.bench.driver import join_steps


def _end(role: str, session: str | None, t0: float, call: float | None = None) -> dict:
    return {
        "role": role,
        "session": session,
        "call": call,
        "paired": t0 + 0.01,
        "answered": t0 + 0.03,
        "connected": t0 + 0.06,
        "first_video": t0 + 0.08,
    }


def test_ends_are_matched_by_server_session_not_by_bench_session() -> None:
    stamps = [
        # bench session 0: its desk called at 10.0 and got the kiosk of bench session 1
        _end("desk", "s-b", 10.0, call=10.0),
        _end("kiosk", "s-a", 10.1),
        # bench session 1: its desk called at 10.1 and got the kiosk of bench session 0
        _end("desk", "s-a", 10.1, call=10.1),
        _end("kiosk", "s-b", 10.02),
    ]
    by_call = sorted(join_steps(stamps), key=lambda s: s["first_video"])
    assert [s["first_video"] for s in by_call] == pytest.approx([80.0, 100.0])
    assert by_call[1]["paired"] == pytest.approx(30.0)  # the kiosk's end was the later one


def test_a_session_missing_an_end_or_a_step_is_left_out() -> None:
    unfinished = _end("kiosk", "s-b", 10.0)
    unfinished["first_video"] = None
    stamps = [
        _end("desk", "s-a", 10.0, call=10.0),  # its kiosk never reported
        _end("desk", "s-b", 10.0, call=10.0),
        unfinished,
        _end("kiosk", None, 10.0),  # never paired
    ]
    assert join_steps(stamps) == []


def _peer(role: str, session: str, sent: int, decoded: int, gaps: int = 0) -> dict:
    return {
        "role": role,
        "session": session,
        "path": "decoded",
        "sent": sent,
        "received": decoded,
        "decoded": decoded,
        "gaps": gaps,
        "decode_failures": 0,
    }


def test_frames_lost_per_stream_pair_a_publisher_with_the_other_end() -> None:
    from server.bench.driver import stream_losses

    peers = [
        _peer("kiosk", "s-a", sent=450, decoded=451),  # desk -> kiosk: head in flight
        _peer("desk", "s-a", sent=449, decoded=440, gaps=3),
        _peer("kiosk", "s-b", sent=450, decoded=450, gaps=2),  # gaps outweigh the head
        _peer("desk", "s-b", sent=450, decoded=451),
        _peer("kiosk", "s-c", sent=450, decoded=0),  # its desk never reported
    ]
    streams = {(s["session"], s["from"]): s for s in stream_losses(peers)}
    assert set(streams) == {("s-a", "kiosk"), ("s-a", "desk"), ("s-b", "kiosk"), ("s-b", "desk")}
    assert streams[("s-a", "kiosk")]["lost"] == 10  # 450 sent, 440 decoded
    assert streams[("s-a", "desk")]["lost"] == 0
    assert streams[("s-b", "desk")]["lost"] == 2  # the kiosk saw two frames missing
    assert streams[("s-b", "kiosk")]["lost"] == 0
