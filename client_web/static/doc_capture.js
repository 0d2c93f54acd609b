// doc_capture.js — a document camera (高拍仪) attached to this PC: choose it
// once (remembered in localStorage), preview it, take full-resolution stills.
//
// A still is ImageCapture.takePhoto() where the camera supports it (the sensor's
// photo resolution), else a canvas grab of the track at its own settings
// (track.getSettings() width x height), never the size the preview is shown at.

const DEVICE_KEY = "rw_doccam_device";
const PHOTO_WAIT_MS = 4000; // some drivers never answer takePhoto: fall back then

export function rememberedDevice() {
  try {
    return localStorage.getItem(DEVICE_KEY) || "";
  } catch {
    return "";
  }
}

export function rememberDevice(id) {
  try {
    localStorage.setItem(DEVICE_KEY, id);
  } catch {
    /* storage may be off: the choice lasts for this page */
  }
}

/** The video inputs (labels once the page has had camera permission). */
export async function videoInputs() {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const all = await navigator.mediaDevices.enumerateDevices();
  return all.filter((d) => d.kind === "videoinput");
}

function within(promise, ms) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms)),
  ]);
}

export class DocCamera {
  /** @param {HTMLVideoElement} video the preview */
  constructor(video) {
    this.video = video;
    this.stream = null;
  }

  get open() {
    return Boolean(this.stream);
  }

  /** Open the camera `deviceId` (or the remembered one, or the first). */
  async start(deviceId = rememberedDevice()) {
    this.stop();
    const video = { width: { ideal: 4096 }, height: { ideal: 3072 } };
    if (deviceId) video.deviceId = { exact: deviceId };
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
    } catch (err) {
      if (!deviceId || err?.name !== "OverconstrainedError") throw err;
      delete video.deviceId; // the remembered camera is gone: take what there is
      stream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
    }
    this.stream = stream;
    const track = stream.getVideoTracks()[0];
    const used = track?.getSettings().deviceId;
    if (used) rememberDevice(used);
    this.video.srcObject = stream;
    await this.video.play().catch(() => {});
    return used || deviceId || "";
  }

  stop() {
    for (const track of this.stream?.getTracks() || []) track.stop();
    this.stream = null;
    this.video.srcObject = null;
  }

  /** A full-resolution still as a JPEG (or the camera's own photo format) Blob. */
  async still() {
    const track = this.stream?.getVideoTracks()[0];
    if (!track) throw new Error("the document camera is not open");
    if (typeof ImageCapture === "function") {
      try {
        const blob = await within(new ImageCapture(track).takePhoto(), PHOTO_WAIT_MS);
        if (blob?.size) return blob;
      } catch {
        /* no photo mode on this camera: grab a frame at the track's size */
      }
    }
    return this.grab(track);
  }

  async grab(track) {
    if (this.video.readyState < 2) {
      await new Promise((resolve) => this.video.addEventListener("loadeddata", resolve, { once: true }));
    }
    const set = track.getSettings();
    const width = set.width || this.video.videoWidth;
    const height = set.height || this.video.videoHeight;
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").drawImage(this.video, 0, 0, width, height);
    return new Promise((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("no image"))), "image/jpeg", 0.92),
    );
  }
}
