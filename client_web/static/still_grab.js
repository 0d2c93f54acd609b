// A full-resolution JPEG still of a local camera track: the kiosk's document
// camera (kiosk_doccam.js) and the inspector's phone (inspect.js). Never the
// transmitted video: the frame is drawn at the track's own settings.
//
// grabStill tries, in order, ImageCapture.grabFrame and a video element; the
// document camera tries takePhoto first itself (a photo camera's own still).

export const JPEG_QUALITY = 0.92;

export function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Draw an image source at width x height and encode it as a JPEG blob. */
export async function encodeJpeg(source, width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").drawImage(source, 0, 0, width, height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
  if (!blob) throw new Error("the still could not be encoded");
  return blob;
}

/** {blob, method} from the track's frames at its settings' size. */
export async function grabStill(track) {
  const settings = track.getSettings();
  if (typeof ImageCapture !== "undefined") {
    try {
      const frame = await withTimeout(new ImageCapture(track).grabFrame(), 3000);
      const blob = await encodeJpeg(frame, settings.width || frame.width, settings.height || frame.height);
      frame.close?.();
      return { blob, method: "grabFrame" };
    } catch {
      /* fall back to a video element */
    }
  }
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  await video.play();
  if (video.requestVideoFrameCallback) {
    await new Promise((resolve) => video.requestVideoFrameCallback(resolve));
  }
  const width = settings.width || video.videoWidth;
  const blob = await encodeJpeg(video, width, settings.height || video.videoHeight);
  video.srcObject = null;
  return { blob, method: "video" };
}
