"""The output slots of a media session and their SDP bookkeeping.

A participant's pc has, per kind, a list of send transceivers (slots); each is
assigned to one source, (other participant, track key), while that source stays
(server/media/session.py routes them). This module holds the data (Participant,
Slot) and the pure helpers that read SDP m-lines and order sources: nothing in
it touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamTrack

from .forwarding import ForwardTrack, InboundStream


@dataclass
class Slot:
    """One send transceiver of a participant's pc and the ForwardTrack feeding it."""

    kind: str
    track: ForwardTrack
    transceiver: RTCRtpTransceiver
    # (participant id, track key) this slot carries while that participant stays
    assigned: tuple[str, str] | None = None
    # False when the client's m-line only sends (sendonly/inactive): nothing goes out here
    wanted: bool = True
    # Added by a renegotiation: not fed until the client has surely applied the answer
    held: bool = False

    @property
    def sender(self) -> RTCRtpSender:
        return self.transceiver.sender

    @property
    def sending(self) -> bool:
        """False once negotiated as recvonly/inactive (the client wants nothing here)."""
        if not self.wanted:
            return False
        return self.transceiver.currentDirection in (None, "sendrecv", "sendonly")


@dataclass
class Participant:
    """A participant's current pc, inbound streams and output slots."""

    participant_id: str
    pc: RTCPeerConnection | None = None
    state: str = "new"
    joined: bool = False
    # key: "audio"/"video"; a further track of the same kind gets "video:1", ...
    inbound: dict[str, InboundStream] = field(default_factory=dict)
    receivers: dict[str, RTCRtpReceiver] = field(default_factory=dict)
    slots: dict[str, list[Slot]] = field(default_factory=dict)
    order: int = 0  # rank among the sources (assigned in this order)
    receive_only: bool = False  # a spot-checking supervisor: never a source


def extra_index(key: str) -> int:
    return int(key.rsplit(":", 1)[1]) if ":" in key else 0


def mid_order(mid: str) -> tuple[int, str]:
    return (int(mid), "") if mid.isdigit() else (1 << 30, mid)


def wanted_sources(others: list[Participant], kind: str) -> list[tuple[str, str]]:
    """The sources one participant's slots of a kind should carry, in priority order."""
    wanted = []
    for other in others:
        if other.receive_only:
            continue  # publishes nothing: no slot anywhere carries it
        extra = [k for k in other.inbound if k.startswith(kind + ":")]
        wanted.append((other.participant_id, kind))
        wanted.extend((other.participant_id, k) for k in sorted(extra, key=extra_index))
    return wanted


def all_slots(participant: Participant) -> list[Slot]:
    return [slot for slots in participant.slots.values() for slot in slots]


def mlines(sdp: str) -> list[tuple[str | None, str, str]]:
    """(mid, kind, direction) of each audio/video m-line of an SDP, in order."""
    rows: list[list[Any]] = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
            rows.append([None, kind, "sendrecv"])
        elif rows and line.startswith("a=mid:"):
            rows[-1][0] = line[6:].strip()
        elif rows and line[2:] in ("sendrecv", "sendonly", "recvonly", "inactive"):
            rows[-1][2] = line[2:]
    return [(m, k, d) for m, k, d in rows if k in ("audio", "video")]


def mark_wanted(participant: Participant, sdp: str) -> None:
    """A slot is wanted when the client's m-line receives (sendrecv or recvonly)."""
    direction = {mid: d for mid, _, d in mlines(sdp)}
    for slot in all_slots(participant):
        d = direction.get(slot.transceiver.mid)
        slot.wanted = d in (None, "sendrecv", "recvonly")


def transceiver_of(pc: RTCPeerConnection, track: MediaStreamTrack) -> RTCRtpTransceiver:
    for transceiver in pc.getTransceivers():
        if transceiver.receiver.track is track:
            return transceiver
    raise LookupError(f"no transceiver receives {track!r}")
