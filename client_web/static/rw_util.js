// Small WebRTC and page helpers shared by the client module and the pages.

/** Put VP8 first where the browser lets us choose (the server forwards VP8 only). */
export function preferVp8(transceiver) {
  if (typeof transceiver.setCodecPreferences !== "function") return;
  const caps = globalThis.RTCRtpReceiver?.getCapabilities?.("video");
  if (!caps?.codecs?.length) return;
  const isVp8 = (c) => c.mimeType.toLowerCase() === "video/vp8";
  const vp8 = caps.codecs.filter(isVp8);
  if (!vp8.length) return;
  try {
    transceiver.setCodecPreferences([...vp8, ...caps.codecs.filter((c) => !isVp8(c))]);
  } catch (err) {
    console.warn("rwclient: setCodecPreferences failed", err);
  }
}

/** Resolve when ICE gathering is complete (or after timeoutMs with what there is). */
export function iceGatheringComplete(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

/** Play a media element; if the browser blocks sound, play muted and call onBlocked. */
export async function playWithSound(video, onBlocked) {
  try {
    await video.play();
  } catch (err) {
    if (err?.name !== "NotAllowedError") return;
    video.muted = true;
    try {
      await video.play();
    } catch {
      /* nothing more to do */
    }
    onBlocked?.();
  }
}

/** The catalogue (/api/catalogue): items by code, places by code, priority classes. */
export async function loadCatalogue() {
  const resp = await fetch("/api/catalogue", { credentials: "same-origin" });
  if (!resp.ok) throw new Error(`catalogue: HTTP ${resp.status}`);
  const data = await resp.json();
  return {
    items: Object.fromEntries(data.items.map((i) => [i.code, i])),
    places: Object.fromEntries(data.places.map((p) => [p.code, p])),
    priorityClasses: data.priority_classes,
  };
}
