// Receive-side connection quality from getStats, for RwClient.quality().

/**
 * Packet loss (over the last interval), round-trip time, frames per second of
 * the inbound face video (not the document camera's line `docMid`), and a
 * level: good / fair / poor / none. `state` keeps the previous totals between
 * calls (call it periodically, e.g. every 2 s).
 */
export async function receiveQuality(pc, docMid, state) {
  if (!pc) return null;
  let report;
  try {
    report = await pc.getStats();
  } catch {
    return null;
  }
  let video = null;
  let audio = null;
  let rtt = null;
  let remoteRtt = null;
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") {
      if (!docMid || s.mid !== docMid) video = s; // the face camera, not the document's
    }
    else if (s.type === "inbound-rtp" && s.kind === "audio") audio = s;
    else if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
      if (typeof s.currentRoundTripTime === "number") rtt = s.currentRoundTripTime;
    } else if (s.type === "remote-inbound-rtp" && typeof s.roundTripTime === "number") {
      remoteRtt = s.roundTripTime;
    }
  });
  if (rtt === null) rtt = remoteRtt;
  const now = performance.now();
  const totals = {
    t: now,
    received: (video?.packetsReceived || 0) + (audio?.packetsReceived || 0),
    lost: Math.max(0, (video?.packetsLost || 0) + (audio?.packetsLost || 0)),
    frames: video?.framesDecoded || 0,
  };
  const prev = state.prev;
  state.prev = totals;
  let loss = null;
  let fps = typeof video?.framesPerSecond === "number" ? video.framesPerSecond : null;
  let flowing = totals.received > 0;
  if (prev) {
    const dRecv = totals.received - prev.received;
    const dLost = totals.lost - prev.lost;
    const dt = (now - prev.t) / 1000;
    flowing = dRecv > 0;
    loss = dRecv + dLost > 0 ? Math.max(0, dLost) / (dRecv + dLost) : 0;
    if (fps === null && dt > 0) fps = (totals.frames - prev.frames) / dt;
  }
  let level = "good";
  if (!flowing) level = "none";
  else if ((loss ?? 0) > 0.08 || (rtt ?? 0) > 0.6 || (video && fps !== null && fps < 5)) level = "poor";
  else if ((loss ?? 0) > 0.02 || (rtt ?? 0) > 0.3 || (video && fps !== null && fps < 12)) level = "fair";
  return {
    level,
    loss,
    rtt,
    fps,
    framesDecoded: totals.frames,
    videoPackets: video?.packetsReceived || 0,
    audioPackets: audio?.packetsReceived || 0,
    width: video?.frameWidth || 0,
    height: video?.frameHeight || 0,
  };
}

// Below this the uplink cannot carry the video (kbit/s): offer audio + stills.
export const VIDEO_MIN_KBPS = 150;

/**
 * Send-side quality, for a phone on a mobile network: the uplink the browser
 * estimates (`availableOutgoingBitrate`), the video actually sent, the loss the
 * server reports back (remote-inbound-rtp), and `weak` when video cannot go
 * through (estimate below VIDEO_MIN_KBPS or loss above 10 %). `state` keeps the
 * previous totals between calls (call it every few seconds).
 */
export async function sendQuality(pc, state) {
  if (!pc) return null;
  let report;
  try {
    report = await pc.getStats();
  } catch {
    return null;
  }
  let available = null;
  let sentBytes = 0;
  let loss = null;
  let limitation = null;
  report.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
      if (typeof s.availableOutgoingBitrate === "number") available = s.availableOutgoingBitrate / 1000;
    } else if (s.type === "outbound-rtp" && s.kind === "video") {
      sentBytes += s.bytesSent || 0;
      limitation = s.qualityLimitationReason || limitation;
    } else if (s.type === "remote-inbound-rtp" && s.kind === "video" && typeof s.fractionLost === "number") {
      loss = Math.max(loss ?? 0, s.fractionLost);
    }
  });
  const now = performance.now();
  const prev = state.prev;
  state.prev = { t: now, sentBytes };
  const videoKbps = prev && now > prev.t ? ((sentBytes - prev.sentBytes) * 8) / (now - prev.t) : null;
  const weak = uplinkWeak({ available, loss, limitation });
  return { available, videoKbps, loss, limitation, weak };
}

/**
 * Whether one reading says video cannot go through. The estimate alone can be
 * low while nothing needs more; weak when the video is held back for bandwidth
 * too, or the server reports heavy loss (over 10 %).
 */
export function uplinkWeak({ available, loss, limitation }) {
  const starved = available !== null && available < VIDEO_MIN_KBPS && limitation === "bandwidth";
  return starved || (loss !== null && loss > 0.1);
}

/**
 * Weak readings in a row before audio + stills is offered: one good reading, or
 * one taken before the connection settled, starts the count again.
 */
export class WeakUplink {
  constructor(needed = 3) {
    this.needed = needed;
    this.count = 0;
  }

  /** Feed one reading; true when the offer should be made now. */
  feed(reading, settled) {
    this.count = reading?.weak && settled ? this.count + 1 : 0;
    return this.count >= this.needed;
  }

  reset() {
    this.count = 0;
  }
}
