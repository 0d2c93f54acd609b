// idle_warning.js — on every staff page: asks the server how long the sign-in has
// left (GET /api/session, which does not count as activity) and, in the last
// `warn_s` seconds, shows a warning with "stay signed in" (POST keepalive).
// When the session has ended, back to the sign-in page for this page.

import { setNames } from "./i18n.js";
import { names } from "./idle_strings.js";
import { csrf } from "./staff.js";

const POLL_MS = 20_000;
let deadline = 0; // local time (ms) when the sign-in ends
let timer = 0;
let banner = null;

function signIn() {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

function ensureBanner() {
  if (banner) return banner;
  banner = document.createElement("div");
  banner.id = "idle-warning";
  banner.className = "message error idle-warning";
  banner.setAttribute("role", "alert");
  const text = document.createElement("span");
  text.id = "idle-warning-text";
  const stay = document.createElement("button");
  stay.type = "button";
  stay.className = "btn small";
  stay.id = "idle-stay";
  setNames(stay, names("stay"));
  stay.addEventListener("click", keepAlive);
  banner.append(text, " ", stay);
  document.querySelector("main")?.prepend(banner);
  return banner;
}

function render(warnS) {
  const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
  if (left <= 0) return signIn();
  if (left <= warnS) {
    const box = ensureBanner();
    setNames(box.querySelector("#idle-warning-text"), names("warning", { n: left }));
    box.hidden = false;
  } else if (banner) banner.hidden = true;
}

// Answers can arrive out of order (a poll at load, another on focus): only one
// newer than the last applied counts.
let asked = 0;
let applied = 0;

function applyIfNewest(seq, data) {
  if (seq <= applied) return;
  applied = seq;
  apply(data);
}

function apply(data) {
  deadline = Date.now() + data.idle_left_s * 1000;
  clearInterval(timer);
  render(data.warn_s);
  timer = setInterval(() => render(data.warn_s), 1000);
}

async function poll() {
  const seq = ++asked;
  try {
    const resp = await fetch("/api/session", { credentials: "same-origin" });
    if (resp.status === 401) return signIn();
    if (resp.ok) applyIfNewest(seq, await resp.json());
  } catch {
    // offline for a moment: the next poll tells
  }
}

async function keepAlive() {
  const seq = ++asked;
  const resp = await fetch("/api/session/keepalive", {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf() },
  });
  if (resp.status === 401) return signIn();
  if (resp.ok) applyIfNewest(seq, await resp.json());
}

poll();
setInterval(poll, POLL_MS);
// A tab coming back to the foreground asks at once (timers may have been throttled).
window.addEventListener("focus", poll);
