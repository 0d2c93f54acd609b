// inspect.js — the mobile inspector's page (云踏勘), opened from a one-time link
// /inspect/<token>.
//
// 1. The link is checked (POST /api/inspect/check, with this phone's device id):
//    expired, ended, in use on another phone... are told in plain words.
// 2. The recording notice is accepted; then camera (rear first, a switch),
//    microphone and location are asked for, and the phone joins the session as
//    party "inspector" (one RwClient: the WebSocket and one peer connection).
// 3. Its position goes to the server every few seconds (inspect.position).
// 4. On inspect.take (the reviewer, or this page, pressed capture) a still is
//    taken from the local camera track at its full size and uploaded to the
//    case's evidence; a phone without a camera answers inspect.failed.
// 5. Weak uplink (getStats, rw_quality.js sendQuality): the page offers audio
//    only with a still every `stills_every_s` through the same upload.
//
// window.rwInspect exposes the page's state and a few actions (tests).

import * as i18n from "./i18n.js";
import { L } from "./inspect_strings.js";
import { WeakUplink, sendQuality } from "./rw_quality.js";
import { RwClient } from "./rwclient.js";
import { grabStill } from "./still_grab.js";

const POSITION_MS = 4000;
const QUALITY_MS = 3000;
const WEAK_CHECKS = 3; // this many weak readings in a row before the offer
// The browser's estimate starts low and ramps up: no verdict this soon after connecting.
const SETTLE_MS = 10_000;
const CAMERA = { width: { ideal: 1920 }, height: { ideal: 1080 }, frameRate: { ideal: 25 } };
// `exact` would fail on cameras that report no facing mode: ask, do not insist.
const FACING = (facing) => ({ ...CAMERA, facingMode: { ideal: facing } });
const DEVICE_KEY = "rw_inspect_device";

const $ = (sel) => document.querySelector(sel);
const token = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");

const state = {
  inspection: null,
  points: [],
  stillsEvery: 10,
  rw: null,
  fix: null,
  facing: "environment",
  weak: false,
  uplink: new WeakUplink(WEAK_CHECKS),
  weakOffered: false,
  stillsTimer: null,
  stored: [],
  quality: null,
  ended: false,
};
window.rwInspect = state;

function deviceId() {
  try {
    let id = localStorage.getItem(DEVICE_KEY);
    if (!id) {
      id = crypto.randomUUID().replace(/-/g, "");
      localStorage.setItem(DEVICE_KEY, id);
    }
    return id;
  } catch {
    state.volatileDevice ||= crypto.randomUUID().replace(/-/g, "");
    return state.volatileDevice;
  }
}

function show(screen) {
  for (const el of document.querySelectorAll("section[data-screen]")) {
    el.hidden = el.dataset.screen !== screen;
  }
  document.body.dataset.screen = screen;
}

function say(el, names) {
  if (!names) {
    el.textContent = "";
    return;
  }
  i18n.setNames(el, names);
}

function applyStatic() {
  for (const el of document.querySelectorAll("[data-inspect-text]")) {
    say(el, L(el.dataset.inspectText));
  }
}

// -- 1. the link -------------------------------------------------------------
async function check() {
  show("checking");
  let resp;
  let body = {};
  try {
    resp = await fetch("/api/inspect/check", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token, device: deviceId() }),
    });
    body = await resp.json().catch(() => ({}));
  } catch {
    return refuse(L("refused.network"));
  }
  if (!resp.ok || !body.ok) return refuse(body.notice || L("refused.network"), body.code);
  state.inspection = body.inspection;
  state.points = body.inspection.points || [];
  state.stillsEvery = body.stills_every_s || state.stillsEvery;
  say($("#inspect-case"), L("notice.case", { case: body.inspection.case }));
  fillPoints();
  show("notice");
}

function refuse(notice, code = "") {
  say($("#inspect-refused"), notice);
  $("#inspect-refused").dataset.code = code;
  show("refused");
}

// -- 2. joining ------------------------------------------------------------------
async function accept() {
  $("#inspect-accept").disabled = true;
  const rw = new RwClient({
    token,
    wsQuery: { device: deviceId() },
    videoConstraints: FACING(state.facing),
  });
  state.rw = rw;
  window.rw = rw;
  show("call");
  say($("#inspect-status"), L("state.connecting"));
  const local = await rw.acquireMedia();
  if (!local.video || !local.audio) {
    const what = Object.entries(local.errors).map(([k, v]) => `${k}: ${v}`).join(", ");
    say($("#inspect-evidence-status"), L("no_media", { what }));
  }
  $("#inspect-self").srcObject = local.stream;
  rw.on("open", () =>
    rw.send({ type: "inspect.join", recording_notice_accepted: true, camera: !!rw.local?.video }),
  );
  rw.on("inspect.info", (msg) => {
    state.points = msg.points;
    state.stillsEvery = msg.stills_every_s;
    fillPoints();
  });
  rw.on("remotestream", ({ stream }) => {
    const video = $("#inspect-remote");
    if (video.srcObject !== stream) video.srcObject = stream;
    video.play().catch(() => {});
  });
  rw.on("pcstate", ({ state: pc }) => {
    if (pc === "connected") {
      state.connectedAt = performance.now();
      say($("#inspect-status"), L("state.connected"));
      if (state.weak) videoSender()?.replaceTrack(null); // a rejoin's new pc: still audio only
    }
    else if (pc === "failed" || pc === "disconnected") say($("#inspect-status"), L("state.reconnecting"));
  });
  rw.on("close", ({ code }) => {
    if (state.ended) return;
    if (code === 4001) refuse({ zh: "这个链接正在另一部手机上使用。", en: "This link is in use on another phone." }, "in_use");
    else if (code === 4401) end();
    else say($("#inspect-status"), L("state.reconnecting"));
  });
  rw.on("error", (msg) => {
    if (msg.ref === "inspect.position") {
      say($("#inspect-position"), L("position.refused", { message: msg.message }));
      $("#inspect-position").dataset.state = "refused";
    } else if (msg.ref === "inspect.join" && msg.code === "forbidden") {
      refuse({ zh: msg.message, en: msg.message }, "in_use");
    }
  });
  rw.on("inspect.take", (msg) => take(msg));
  rw.on("inspect.evidence", (msg) => {
    state.stored.push(msg.evidence);
    say($("#inspect-evidence-status"), L("evidence.stored", { n: msg.evidence.n }));
  });
  rw.on("session.ended", end);
  rw.connect();
  watchPosition();
  setInterval(sendFix, POSITION_MS);
  setInterval(checkUplink, QUALITY_MS);
}

function end() {
  if (state.ended) return;
  state.ended = true;
  clearInterval(state.stillsTimer);
  state.rw?.close();
  state.rw?.releaseMedia();
  show("ended");
}

function fillPoints() {
  const select = $("#inspect-point");
  select.replaceChildren();
  const none = document.createElement("option");
  none.value = "";
  say(none, L("point.none"));
  select.append(none);
  for (const point of state.points) {
    const option = document.createElement("option");
    option.value = point;
    option.textContent = point;
    select.append(option);
  }
}

// -- 3. position ---------------------------------------------------------------------
function watchPosition() {
  const el = $("#inspect-position");
  say(el, L("position.waiting"));
  if (!navigator.geolocation) {
    say(el, L("position.denied"));
    return;
  }
  navigator.geolocation.watchPosition(
    (pos) => {
      const first = !state.fix;
      const c = pos.coords;
      state.fix = { lat: c.latitude, lon: c.longitude, accuracy: c.accuracy, time: pos.timestamp };
      el.dataset.state = "fix";
      say(el, L("position.fix", { lat: c.latitude.toFixed(6), lon: c.longitude.toFixed(6), acc: Math.round(c.accuracy) }));
      if (first) sendFix();
    },
    () => {
      el.dataset.state = "denied";
      say(el, L("position.denied"));
    },
    { enableHighAccuracy: true, maximumAge: 5000, timeout: 20000 },
  );
}

function sendFix() {
  if (state.fix && state.rw?.session) state.rw.send({ type: "inspect.position", ...state.fix });
}

// -- 4. evidence stills ---------------------------------------------------------------
function cameraTrack() {
  return state.rw?.local?.stream?.getVideoTracks().find((t) => t.readyState === "live") || null;
}

/** A full-resolution JPEG of the local camera track (its settings' size, never the sent video). */
async function still(track) {
  return (await grabStill(track)).blob;
}

async function upload(blob, query) {
  const params = new URLSearchParams(query);
  const resp = await fetch(`/api/register/cases/${encodeURIComponent(state.inspection.case)}/evidence?${params}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "image/jpeg" },
    body: blob,
  });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = new Error(body.message || `HTTP ${resp.status}`);
    err.refused = resp.status < 500;
    throw err;
  }
  return body;
}

async function take(msg) {
  const status = $("#inspect-evidence-status");
  const track = cameraTrack();
  if (!track) {
    say(status, L("evidence.no_camera"));
    state.rw.send({ type: "inspect.failed", request_id: msg.request_id, reason_code: "no_camera" });
    return;
  }
  say(status, L("evidence.taking"));
  let blob;
  try {
    blob = await still(track);
  } catch (err) {
    say(status, L("evidence.failed", { message: String(err.message || err) }));
    state.rw.send({ type: "inspect.failed", request_id: msg.request_id, reason_code: "camera_failed" });
    return;
  }
  try {
    await upload(blob, { request: msg.request_id });
  } catch (err) {
    say(status, L("evidence.failed", { message: err.message }));
    const reason_code = err.refused ? "upload_refused" : "upload_failed";
    state.rw.send({ type: "inspect.failed", request_id: msg.request_id, reason_code });
  }
}

async function periodicStill() {
  const track = cameraTrack();
  if (!track || !state.rw?.session) return;
  try {
    await upload(await still(track), { periodic: "1", point: $("#inspect-point").value });
  } catch (err) {
    say($("#inspect-evidence-status"), L("evidence.failed", { message: err.message }));
  }
}

// -- the camera: front / rear ---------------------------------------------------------
function videoSender() {
  return state.rw?.pc?.getTransceivers().find((t) => t.receiver.track?.kind === "video")?.sender || null;
}

async function switchCamera() {
  const rw = state.rw;
  const old = cameraTrack();
  const facing = state.facing === "environment" ? "user" : "environment";
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: FACING(facing) });
  } catch (err) {
    say($("#inspect-evidence-status"), L("no_media", { what: err?.name || String(err) }));
    return;
  }
  const track = stream.getVideoTracks()[0];
  state.facing = facing;
  rw.videoConstraints = FACING(facing); // a rejoin asks for the same camera
  await videoSender()?.replaceTrack(state.weak ? null : track);
  if (old) {
    rw.local.stream.removeTrack(old);
    old.stop();
  }
  rw.local.stream.addTrack(track);
  $("#inspect-self").srcObject = rw.local.stream;
  document.body.dataset.facing = facing;
}

// -- 5. weak uplink -----------------------------------------------------------------------
async function checkUplink() {
  if (!state.rw?.pc || state.weak) return;
  state.qstate ||= { prev: null };
  const q = await sendQuality(state.rw.pc, state.qstate);
  state.quality = q;
  const settled = state.connectedAt && performance.now() - state.connectedAt > SETTLE_MS;
  if (state.uplink.feed(q, settled)) offerWeak();
}

function offerWeak() {
  if (state.weak) return;
  state.weakOffered = true;
  $("#inspect-weak").hidden = false;
}

async function enterWeak() {
  state.weak = true;
  $("#inspect-weak").hidden = true;
  await videoSender()?.replaceTrack(null); // the camera stays on for the stills
  state.rw.send({ type: "media.state", audio: state.rw.mediaState().audio, video: false });
  say($("#inspect-mode"), L("mode.weak", { n: state.stillsEvery }));
  $("#inspect-mode").hidden = false;
  $("#inspect-video-mode").hidden = false;
  clearInterval(state.stillsTimer);
  state.stillsTimer = setInterval(periodicStill, state.stillsEvery * 1000);
  periodicStill();
}

async function leaveWeak() {
  state.weak = false;
  state.uplink.reset();
  clearInterval(state.stillsTimer);
  await videoSender()?.replaceTrack(cameraTrack());
  state.rw.send({ type: "media.state", ...state.rw.mediaState() });
  $("#inspect-mode").hidden = true;
  $("#inspect-video-mode").hidden = true;
}

state.offerWeak = offerWeak;
state.enterWeak = enterWeak;

// -- wiring ----------------------------------------------------------------------------------
applyStatic();
$("#inspect-accept").addEventListener("click", accept);
$("#inspect-switch").addEventListener("click", switchCamera);
$("#inspect-capture").addEventListener("click", () =>
  state.rw?.send({ type: "inspect.capture", point: $("#inspect-point").value }),
);
$("#inspect-weak-accept").addEventListener("click", enterWeak);
$("#inspect-video-mode").addEventListener("click", leaveWeak);
$("#inspect-leave").addEventListener("click", () => state.rw?.send({ type: "session.leave" }));
check();
