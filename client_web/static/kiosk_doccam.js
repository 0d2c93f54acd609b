// kiosk_doccam.js — the kiosk's document camera (高拍仪).
//
// - Chosen once per kiosk by staff (a small settings control on the start
//   screen listing the video inputs; remembered in localStorage). The face
//   camera stays the default camera as before.
// - Published as a second video track in the same peer connection: RwClient
//   takes a DocCamera as `docCamera` (rwclient.js).
// - Stills: on `doc.take` (the reviewer or the applicant pressed capture), a
//   full-resolution still is taken from the local track (ImageCapture
//   takePhoto when it works, else a frame grabbed at the track's full
//   getSettings() size; never the transmitted video) and uploaded with the
//   documents API under the device token; one that cannot be taken or uploaded
//   is reported to the desk as `doc.failed` with its reason code. `doc.recapture`
//   is told in plain words.

import * as i18n from "./i18n.js";
import { L } from "./kiosk_doccam_strings.js";
import { grabStill, withTimeout } from "./still_grab.js";

const STORE_KEY = "rw_doc_camera";
// As large as the device gives (a document camera's text needs the pixels).
const DOC_VIDEO = { width: { ideal: 3840 }, height: { ideal: 2160 }, frameRate: { ideal: 10 } };

const $ = (sel) => document.querySelector(sel);
window.rwDocTimings = [];

function stored() {
  try {
    return localStorage.getItem(STORE_KEY) || null;
  } catch {
    return null;
  }
}

export class DocCamera {
  constructor() {
    this.deviceId = stored();
    this.stream = null;
    this._acquiring = null;
    this.lastMethod = null; // how the last still was taken: takePhoto, grabFrame or video
  }

  get chosen() {
    return !!this.deviceId;
  }

  choose(deviceId) {
    this.release();
    this.deviceId = deviceId || null;
    try {
      if (deviceId) localStorage.setItem(STORE_KEY, deviceId);
      else localStorage.removeItem(STORE_KEY);
    } catch {
      /* private mode: for this page only */
    }
  }

  /** The live document-camera track, acquired once; null when none is chosen or it fails. */
  async track() {
    const live = this.stream?.getVideoTracks().find((t) => t.readyState === "live");
    if (live) return live;
    if (!this.deviceId) return null;
    if (!this._acquiring) {
      const video = { ...DOC_VIDEO, deviceId: { exact: this.deviceId } };
      this._acquiring = navigator.mediaDevices
        .getUserMedia({ video, audio: false })
        .then((stream) => {
          this.stream = stream;
          const track = stream.getVideoTracks()[0];
          if (track && "contentHint" in track) track.contentHint = "detail"; // keep the resolution
          return track || null;
        })
        .catch((err) => {
          console.warn("kiosk: the document camera failed", err?.name || err);
          return null;
        })
        .finally(() => {
          this._acquiring = null;
        });
    }
    return this._acquiring;
  }

  release() {
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
  }

  /** A full-resolution JPEG still of the document camera: {blob, method}. */
  async still() {
    const track = await this.track();
    if (!track) throw new Error("no document camera");
    if (typeof ImageCapture !== "undefined") {
      const capture = new ImageCapture(track);
      try {
        const caps = await withTimeout(capture.getPhotoCapabilities(), 2000);
        const widest = caps?.imageWidth?.max;
        const blob = await withTimeout(capture.takePhoto(widest ? { imageWidth: widest } : {}), 6000);
        if (blob?.size) return this._took(blob, "takePhoto");
      } catch {
        /* not a camera that takes photos (or it failed): grab a frame instead */
      }
    }
    const { blob, method } = await grabStill(track);
    return this._took(blob, method);
  }

  _took(blob, method) {
    this.lastMethod = method;
    return { blob, method };
  }
}

// -- the settings control (start screen, staff) ---------------------------------

async function videoInputs() {
  const md = navigator.mediaDevices;
  if (!md?.enumerateDevices) return [];
  let inputs = (await md.enumerateDevices()).filter((d) => d.kind === "videoinput");
  if (inputs.length && inputs.every((d) => !d.label)) {
    // Labels come once the page may use a camera: ask once, then put it back.
    try {
      const s = await md.getUserMedia({ video: true });
      for (const t of s.getTracks()) t.stop();
      inputs = (await md.enumerateDevices()).filter((d) => d.kind === "videoinput");
    } catch {
      /* unnamed then */
    }
  }
  return inputs;
}

function wireSettings(camera) {
  const dialog = $("#doccam-settings");
  const list = $("#doccam-devices");
  const preview = $("#doccam-settings-preview");
  const note = $("#doccam-settings-note");
  let choice = camera.deviceId;
  let previewStream = null;

  function stopPreview() {
    if (previewStream) for (const t of previewStream.getTracks()) t.stop();
    previewStream = null;
    preview.srcObject = null;
    preview.hidden = true;
  }

  async function showPreview(deviceId) {
    stopPreview();
    if (!deviceId) return;
    try {
      previewStream = await navigator.mediaDevices.getUserMedia({
        video: { deviceId: { exact: deviceId } },
        audio: false,
      });
      preview.srcObject = previewStream;
      preview.hidden = false;
      preview.play().catch(() => {});
    } catch {
      preview.hidden = true;
    }
  }

  function option(value, names) {
    const label = document.createElement("label");
    label.className = "doccam-option";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "doccam";
    input.value = value;
    input.checked = (choice || "") === value;
    input.addEventListener("change", () => {
      choice = value || null;
      showPreview(choice);
    });
    const text = document.createElement("span");
    i18n.setNames(text, names);
    label.append(input, text);
    return label;
  }

  $("#doccam-settings-open").addEventListener("click", async () => {
    choice = camera.deviceId;
    note.hidden = true;
    dialog.hidden = false;
    const inputs = await videoInputs();
    const options = [option("", L("settings.none"))];
    inputs.forEach((d, i) => {
      const names = d.label ? { zh: d.label, en: d.label } : L("settings.camera", { n: i + 1 });
      options.push(option(d.deviceId, names));
    });
    list.replaceChildren(...options);
    if (!inputs.length) {
      i18n.setNames(note, L("settings.empty"));
      note.hidden = false;
    }
    showPreview(choice);
  });
  $("#doccam-settings-cancel").addEventListener("click", () => {
    stopPreview();
    dialog.hidden = true;
  });
  $("#doccam-settings-save").addEventListener("click", () => {
    stopPreview();
    camera.choose(choice);
    dialog.hidden = true;
    const picked = list.querySelector("input:checked")?.nextElementSibling?.textContent || "";
    const msg = $("#items-message");
    i18n.setNames(msg, L("settings.saved", { name: picked }));
    msg.hidden = false;
  });
}

// -- the call: doc.case / doc.take / doc.stored / doc.recapture -------------------

/**
 * Wire the document camera into the kiosk page.
 * opts: {token, speak(names)} — the device token for uploads; speak reads a {zh, en} aloud.
 */
export function wireDocCamera(client, camera, opts) {
  wireSettings(camera);
  const panel = $("#doc-panel");
  const preview = $("#doc-preview");
  const message = $("#doc-message");
  const buttons = $("#doc-materials");
  const caseLine = $("#doc-case");
  const state = { case: null, materials: [], busy: false };
  i18n.setNames($("#doc-panel-title"), L("panel.title"));
  i18n.setNames($("#doccam-settings-open"), L("settings.open"));
  i18n.setNames($("#doccam-settings-title"), L("settings.title"));
  i18n.setNames($("#doccam-settings-hint"), L("settings.hint"));
  i18n.setNames($("#doccam-settings-save"), L("settings.save"));
  i18n.setNames($("#doccam-settings-cancel"), L("settings.cancel"));

  function say(names, tone = "") {
    i18n.setNames(message, names);
    message.className = `doc-message ${tone}`.trim();
    message.hidden = false;
  }

  async function showPanel() {
    const track = await camera.track();
    panel.hidden = !track && !state.case;
    document.body.classList.toggle("has-doc-camera", !!track);
    if (track) {
      const stream = new MediaStream([track]);
      if (preview.srcObject?.getVideoTracks?.()[0] !== track) preview.srcObject = stream;
      preview.play().catch(() => {});
      if (!state.case) say(L("panel.place"));
    }
  }

  function renderMaterials() {
    caseLine.hidden = !state.case;
    if (state.case) i18n.setNames(caseLine, L("panel.case", { case: state.case }));
    buttons.replaceChildren(
      ...state.materials.map((material) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "btn big doc-capture";
        b.dataset.material = material;
        b.disabled = state.busy || !camera.chosen;
        i18n.setNames(b, L("panel.capture", { material }));
        b.addEventListener("click", () => {
          client.send({ type: "doc.capture", case: state.case, material });
        });
        return b;
      }),
    );
  }

  // The desk is told at once why no page comes (doc.failed; PROTOCOL.md).
  function failed(msg, reason_code) {
    client.send({ type: "doc.failed", case: msg.case, material: msg.material, reason_code });
  }

  async function take(msg) {
    if (!camera.chosen) {
      say(L("no_camera"), "warn");
      failed(msg, "no_camera");
      return;
    }
    state.busy = true;
    renderMaterials();
    say(L("taking", { material: msg.material }));
    opts.speak?.(L("speak.taking"));
    let step = "still";
    try {
      const started = performance.now();
      if (!(await camera.track())) {
        say(L("no_camera"), "warn");
        failed(msg, "no_camera");
        return;
      }
      const { blob } = await camera.still();
      const took = performance.now();
      const url =
        `/api/register/cases/${encodeURIComponent(msg.case)}/documents` +
        `?material=${encodeURIComponent(msg.material)}&source=camera`;
      step = "upload";
      const resp = await fetch(url, {
        method: "POST",
        headers: { Authorization: `Bearer ${opts.token}`, "Content-Type": blob.type || "image/jpeg" },
        body: blob,
      });
      if (!resp.ok) {
        step = resp.status === 413 ? "too_large" : resp.status < 500 ? "refused" : "upload";
        throw new Error(`HTTP ${resp.status}`);
      }
      // For the benchmark: the still (grab + JPEG) and the upload, in ms.
      const done = performance.now();
      window.rwDocTimings.push({ still_ms: took - started, upload_ms: done - took, bytes: blob.size });
    } catch (err) {
      console.warn("kiosk: still failed", err);
      say(L("failed"), "warn");
      const codes = { still: "camera_failed", too_large: "too_large", refused: "upload_refused" };
      failed(msg, codes[step] || "upload_failed");
    } finally {
      state.busy = false;
      renderMaterials();
    }
  }

  client.on("session.paired", () => showPanel());
  client.on("doc.case", (msg) => {
    state.case = msg.case;
    state.materials = msg.materials;
    renderMaterials();
    showPanel();
  });
  client.on("doc.take", (msg) => take(msg));
  client.on("doc.stored", (msg) => {
    const doc = msg.document;
    if (doc.state === "ok") say(L("stored", { material: doc.material, page: doc.page }), "ok");
  });
  client.on("doc.recapture", (msg) => {
    say(L("recapture", { material: msg.material, page: msg.page, reason: msg.reason }), "warn");
    opts.speak?.(L("speak.recapture"));
  });
  client.on("session.ended", () => {
    state.case = null;
    state.materials = [];
    renderMaterials();
    panel.hidden = true;
    message.hidden = true;
    preview.srcObject = null;
  });
}
