"""SDP-level helpers for answering offers: codecs, ICE servers, BUNDLE repair."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiortc import RTCIceServer, RTCPeerConnection, RTCRtpSender, sdp

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


def check_offer(offer_sdp: str) -> None:
    """Raise ValueError when an offer cannot be answered, before anything is torn down.

    Needs at least one audio/video m-line, VP8 on every video and Opus on every
    audio m-line, and ICE credentials and a DTLS fingerprint for each."""
    try:
        parsed = sdp.SessionDescription.parse(offer_sdp)
    except Exception as exc:  # aiortc's parser raises whatever the text provokes
        raise ValueError(f"malformed SDP ({type(exc).__name__})") from None
    media = [m for m in parsed.media if m.kind in _CODECS]
    if not media:
        raise ValueError("the offer has no audio or video m-line")
    for m in media:
        wanted = _CODECS[m.kind][0]
        if not any(c.mimeType.lower() == wanted for c in m.rtp.codecs):
            raise ValueError(f"the {m.kind} m-line does not offer {wanted}")
        if not (m.ice.usernameFragment and m.ice.password):
            raise ValueError(f"the {m.kind} m-line has no ICE credentials")
        if m.dtls is None or not m.dtls.fingerprints:
            raise ValueError(f"the {m.kind} m-line has no DTLS fingerprint")


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
