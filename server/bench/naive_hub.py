"""The naive media path, for the benchmark's baseline only.

What a straightforward aiortc server does: every received track is decoded,
fanned out with `MediaRelay`, re-encoded by each sender, and recorded with
`MediaRecorder` (which decodes and encodes again). Same interface as
`server.media.hub.MediaHub`, so the real queue and signaling drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRecorder, MediaRelay
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger(__name__)


class _Slot(MediaStreamTrack):
    """An output whose source (a relayed, decoded track) arrives later."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._source: MediaStreamTrack | None = None
        self._ready = asyncio.Event()

    def attach(self, source: MediaStreamTrack) -> None:
        self._source = source
        self._ready.set()

    async def recv(self) -> Any:
        await self._ready.wait()
        assert self._source is not None
        return await self._source.recv()


class _Participant:
    def __init__(self, pid: str) -> None:
        self.pid = pid
        self.pc: RTCPeerConnection | None = None
        self.slots: dict[str, _Slot] = {}
        self.relays: dict[str, tuple[MediaRelay, MediaStreamTrack]] = {}
        self.recorders: list[MediaRecorder] = []


class NaiveMediaSession:
    def __init__(self, session_id: str, record_dir: Path | None, record_format: str) -> None:
        self.session_id = session_id
        self.record_dir = record_dir
        self.record_format = record_format
        self.participants: dict[str, _Participant] = {}
        self._state_callbacks: list[Callable[[str, str], Any]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def on_participant_state(self, callback: Callable[[str, str], Any]) -> None:
        self._state_callbacks.append(callback)

    def on_inbound(self, callback: Callable[..., Any]) -> None:
        """The naive path records with MediaRecorder itself; no taps."""

    async def accept_offer(
        self, participant_id: str, offer_sdp: str, ice_servers: Iterable[Any] = ()
    ) -> str:
        p = self.participants.setdefault(participant_id, _Participant(participant_id))
        await self._close_participant(p)
        servers = [RTCIceServer(**s) if isinstance(s, dict) else s for s in ice_servers]
        pc = p.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        p.slots = {}
        for kind in ("audio", "video"):
            slot = p.slots[kind] = _Slot(kind)
            pc.addTransceiver(slot, direction="sendrecv")
        pc.on("track", lambda track: self._on_track(p, track))
        pc.on("connectionstatechange", lambda: self._emit(participant_id, pc.connectionState))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        self._route()
        return pc.localDescription.sdp

    def _on_track(self, p: _Participant, track: MediaStreamTrack) -> None:
        relay = MediaRelay()
        p.relays[track.kind] = (relay, track)
        if self.record_dir is not None:
            self.record_dir.mkdir(parents=True, exist_ok=True)
            name = f"{self.session_id}-{p.pid.replace(':', '_')}-{track.kind}.{self.record_format}"
            path = self.record_dir / name
            recorder = MediaRecorder(str(path))
            recorder.addTrack(relay.subscribe(track))
            p.recorders.append(recorder)
            self._spawn(recorder.start())
        self._route()

    def _route(self) -> None:
        for p in self.participants.values():
            for other in self.participants.values():
                if other is p:
                    continue
                for kind, slot in p.slots.items():
                    if slot._source is None and kind in other.relays:
                        relay, track = other.relays[kind]
                        slot.attach(relay.subscribe(track))

    def _emit(self, pid: str, state: str) -> None:
        mapped = {"new": "connecting"}.get(state, state)
        for callback in self._state_callbacks:
            result = callback(pid, mapped)
            if inspect.isawaitable(result):
                self._spawn(result)

    def _spawn(self, awaitable: Any) -> None:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_participant(self, p: _Participant) -> None:
        for recorder in p.recorders:
            with contextlib.suppress(MediaStreamError, Exception):
                await recorder.stop()
        p.recorders = []
        p.relays = {}
        if p.pc is not None:
            await p.pc.close()
            p.pc = None

    async def close(self) -> None:
        for p in self.participants.values():
            await self._close_participant(p)
        for task in list(self._tasks):
            task.cancel()

    async def stream_stats(self) -> list[dict[str, Any]]:
        return []


class NaiveMediaHub:
    """`record_format` "webm" (the archive's format: MediaRecorder re-encodes
    with libvpx) or "mp4" (MediaRecorder's cheapest: H.264/AAC via libx264)."""

    def __init__(self, record_dir: Path | None = None, record_format: str = "webm") -> None:
        self.record_dir = record_dir
        self.record_format = record_format
        self.sessions: dict[str, NaiveMediaSession] = {}

    def session(self, session_id: str) -> NaiveMediaSession:
        if session_id not in self.sessions:
            self.sessions[session_id] = NaiveMediaSession(
                session_id, self.record_dir, self.record_format
            )
        return self.sessions[session_id]

    async def close_session(self, session_id: str) -> None:
        session = self.sessions.pop(session_id, None)
        if session is not None:
            await session.close()

    async def close(self) -> None:
        for sid in list(self.sessions):
            await self.close_session(sid)

    async def stream_stats(self) -> list[dict[str, Any]]:
        return []
