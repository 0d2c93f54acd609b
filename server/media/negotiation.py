"""SDP-level helpers for answering offers: codecs, ICE servers, BUNDLE repair."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiortc import RTCIceServer, RTCPeerConnection, RTCRtpSender

IceServerLike = RTCIceServer | Mapping[str, Any]

_CODECS = {"video": ("video/vp8", "video/rtx"), "audio": ("audio/opus",)}


def ice_server(value: IceServerLike) -> RTCIceServer:
    """An RTCIceServer from itself or a mapping with urls/username/credential."""
    if isinstance(value, RTCIceServer):
        return value
    return RTCIceServer(
        urls=value["urls"], username=value.get("username"), credential=value.get("credential")
    )


def offered_kinds(sdp: str) -> list[str]:
    """Kinds of the audio/video m-lines of an SDP, in order."""
    kinds = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
            if kind in ("audio", "video"):
                kinds.append(kind)
    return kinds


def repair_bundle(pc: RTCPeerConnection, offer_sdp: str) -> None:
    """Move every transceiver of the offer's BUNDLE group onto the primary's transport.

    aiortc quirk: a second transceiver of one kind created before the offer
    shares the first one's transport and is not moved when the offer bundles
    everything onto the first mid, so it would never receive or send.
    """
    group = next(
        (ln.split()[1:] for ln in offer_sdp.splitlines() if ln.startswith("a=group:BUNDLE")), []
    )
    by_mid = {t.mid: t for t in pc.getTransceivers() if t.mid is not None}
    primary = by_mid.get(group[0]) if group else None
    if primary is None:
        return
    transport = primary.receiver.transport
    for mid in group[1:]:
        transceiver = by_mid.get(mid)
        if transceiver is not None and transceiver.receiver.transport is not transport:
            transceiver.receiver.setTransport(transport)
            transceiver.sender.setTransport(transport)


def codec_preferences(kind: str) -> list[Any]:
    caps = RTCRtpSender.getCapabilities(kind).codecs
    return [c for c in caps if c.mimeType.lower() in _CODECS[kind]]
