// callview.js — the parts of a call screen that the kiosk and the desk share:
// the status line in plain words, the other side's camera/microphone note,
// mute/camera buttons, media warnings and the remote video with sound.

import * as i18n from "./i18n.js";
import { playWithSound } from "./rwclient.js";

/**
 * The status line: our own connection first (connecting, reconnecting), then
 * the server's notice about the other side (session.state.notice).
 */
export function describeCall(client, pcState, mediaFailed) {
  const notice = client.sessionState?.notice;
  if (pcState === "failed" || pcState === "disconnected") {
    return { key: "call.state.reconnecting", tone: "warn" };
  }
  if (mediaFailed && pcState !== "connected") return { key: "call.state.media_failed", tone: "warn" };
  if (pcState !== "connected") return { key: "call.state.connecting", tone: "" };
  if (notice) {
    const ok = client.sessionState.peer_connection === "connected";
    return { names: notice, tone: ok ? "ok" : "warn" };
  }
  return { key: "call.state.connected", tone: "ok" };
}

export function renderStatus(statusEl, noteEl, client, pcState, mediaFailed) {
  const line = describeCall(client, pcState, mediaFailed);
  if (line.key) i18n.setText(statusEl, line.key);
  else i18n.setNames(statusEl, line.names);
  statusEl.classList.toggle("ok", line.tone === "ok");
  statusEl.classList.toggle("warn", line.tone === "warn");
  const peer = client.sessionState?.peer_media;
  if (peer && (!peer.video || !peer.audio)) {
    let key = "call.peer.no_media";
    if (peer.video) key = "call.peer.no_audio";
    else if (peer.audio) key = "call.peer.no_video";
    i18n.setText(noteEl, key);
    noteEl.hidden = false;
  } else {
    noteEl.hidden = true;
  }
  return line;
}

/** keys: {mute, unmute, cameraOff, cameraOn} dictionary keys for the two buttons. */
export function renderToggles(audioBtn, videoBtn, client, keys) {
  i18n.setText(audioBtn, client.audioOn ? keys.mute : keys.unmute);
  i18n.setText(videoBtn, client.videoOn ? keys.cameraOff : keys.cameraOn);
  audioBtn.setAttribute("aria-pressed", String(!client.audioOn));
  videoBtn.setAttribute("aria-pressed", String(!client.videoOn));
  audioBtn.classList.toggle("off", !client.audioOn);
  videoBtn.classList.toggle("off", !client.videoOn);
  audioBtn.disabled = !!client.local && !client.local.audio;
  videoBtn.disabled = !!client.local && !client.local.video;
}

/** The dictionary key explaining why getUserMedia failed, if it is a known reason. */
export function mediaErrorKey(errors) {
  const names = Object.values(errors || {});
  if (names.some((n) => n === "NotAllowedError" || n === "SecurityError")) return "media.denied";
  if (names.some((n) => n === "NotFoundError" || n === "OverconstrainedError")) return "media.missing";
  if (names.some((n) => n === "NotReadableError" || n === "AbortError")) return "media.busy";
  return null;
}

/** A missing camera or microphone, in plain words; hidden when both work. */
export function renderMediaWarning(el, local) {
  if (!local || (local.audio && local.video)) {
    el.hidden = true;
    return;
  }
  let key = "media.no_audio";
  if (!local.audio && !local.video) key = "media.none";
  else if (!local.video) key = "media.no_video";
  const title = document.createElement("strong");
  title.className = "warn-title";
  i18n.setText(title, key);
  const more = document.createElement("span");
  more.className = "warn-more";
  i18n.setText(more, `${key}.more`);
  el.replaceChildren(title, more);
  const why = mediaErrorKey(local.errors);
  if (why) {
    const detail = document.createElement("span");
    detail.className = "why";
    i18n.setText(detail, why);
    el.append(detail);
  }
  el.hidden = false;
}

/** Show the other side's stream; if the browser blocks sound, offer a button. */
export function attachRemote(video, stream, soundBtn) {
  if (video.srcObject !== stream) video.srcObject = stream;
  playWithSound(video, () => {
    soundBtn.hidden = false;
  });
}

export function wireSoundButton(soundBtn, video) {
  soundBtn.addEventListener("click", () => {
    video.muted = false;
    video.play().catch(() => {});
    soundBtn.hidden = true;
  });
}

/** Show our own camera (muted, mirrored by CSS) in each of the video elements. */
export function attachLocal(videos, local) {
  for (const video of videos) {
    if (video.srcObject !== local.stream) video.srcObject = local.stream;
    video.play().catch(() => {});
  }
}
