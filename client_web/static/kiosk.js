// kiosk.js — the applicant's kiosk: choose an item, priority, see the recording
// notice, wait in line, then the video call with the reviewer.
// Few choices per screen, large targets, spoken prompts where the browser can speak.

import * as i18n from "./i18n.js";
import { speakText } from "./kiosk_speech.js";
import * as view from "./callview.js";
import { DocCamera, wireDocCamera } from "./kiosk_doccam.js";
import { RwClient, loadCatalogue } from "./rwclient.js";
import { offerRating } from "./kiosk_rating.js";
import { wireObserverNotice } from "./observer_notice.js";
import { mountGrid } from "./desk_party.js";

const TOKEN_KEY = "rw_kiosk_token";
const PAGE_SIZE = 6;
const IDLE_RESET_MS = 120_000; // an abandoned choice goes back to the start
const ENDED_RESET_MS = 60_000; // the thank-you screen goes back to the start

const $ = (sel) => document.querySelector(sel);
const state = {
  screen: "loading",
  item: null,
  priority: "normal",
  page: 0,
  ticket: null,
  lastAhead: null,
  pcState: null,
  mediaFailed: false,
  spokeConnected: false,
  requeued: false, // the string key saying why it is back in line (until the next call)
};
// Outcomes after which the server has put the applicant back at the head of the line.
const REQUEUED_OUTCOMES = new Set(["reviewer_left", "reviewer_lost", "server_lost"]);
let idleTimer = null;
let endedTimer = null;

// -- device token: in the URL once, then local storage ----------------------
function takeToken() {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    try {
      localStorage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      /* private mode: the token lives for this page only */
    }
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    return fromUrl;
  }
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

// -- the kiosk never leaves the kiosk page ------------------------------------
// Back (a key, a mouse button, a swipe) would go to whatever came before. Keep an
// entry of our own on top and put it back when it is popped: back changes nothing.
// A touch pushes it too, in case the browser skipped one pushed without a touch.
const TOP = { rwKiosk: "top" };
function holdHistory() {
  if (history.state?.rwKiosk !== TOP.rwKiosk) history.pushState(TOP, "", location.href);
}
window.addEventListener("popstate", holdHistory);
document.addEventListener("pointerdown", holdHistory, true);

// -- screens ---------------------------------------------------------------
function show(name) {
  state.screen = name;
  document.body.dataset.screen = name;
  for (const el of document.querySelectorAll("section.screen")) el.hidden = el.dataset.screen !== name;
  for (const el of document.querySelectorAll(".confirm")) el.hidden = true;
  updateMediaWarning();
  armIdle();
  window.scrollTo(0, 0);
}

function armIdle() {
  clearTimeout(idleTimer);
  if (["priority", "notice"].includes(state.screen) || (state.screen === "items" && state.page > 0)) {
    idleTimer = setTimeout(() => goStart(), IDLE_RESET_MS);
  }
}

function goStart(messageKey = null) {
  clearTimeout(endedTimer);
  state.item = null;
  state.priority = "normal";
  state.page = 0;
  state.ticket = null;
  state.requeued = false;
  renderPage();
  const msg = $("#items-message");
  if (messageKey) i18n.setText(msg, messageKey);
  msg.hidden = !messageKey;
  show("items");
}

function itemNames(code) {
  const el = document.querySelector(`.item-btn[data-item="${CSS.escape(code)}"] .item-name`);
  return el ? { zh: el.dataset.zh, en: el.dataset.en } : { zh: code, en: code };
}

function setChosen() {
  for (const el of document.querySelectorAll("[data-chosen-item]")) {
    if (state.item) i18n.setText(el, "kiosk.chosen", { item: itemNames(state.item) });
    else el.textContent = "";
  }
}

// -- speech ----------------------------------------------------------------
function speak(key, vars) {
  speakText(i18n.t(key, vars));
}

// -- step 1: items, a few per page -----------------------------------------
const itemButtons = [...document.querySelectorAll(".item-btn")];

function renderPage() {
  const pages = Math.max(1, Math.ceil(itemButtons.length / PAGE_SIZE));
  state.page = Math.min(Math.max(0, state.page), pages - 1);
  itemButtons.forEach((btn, i) => {
    btn.hidden = Math.floor(i / PAGE_SIZE) !== state.page;
  });
  $("#pager").hidden = pages <= 1;
  $("#page-prev").disabled = state.page === 0;
  $("#page-next").disabled = state.page === pages - 1;
  i18n.setText($("#page-label"), "kiosk.page", { n: state.page + 1, total: pages });
}

$("#page-prev").addEventListener("click", () => {
  state.page -= 1;
  renderPage();
  armIdle();
});
$("#page-next").addEventListener("click", () => {
  state.page += 1;
  renderPage();
  armIdle();
});
for (const btn of itemButtons) {
  btn.addEventListener("click", () => {
    state.item = btn.dataset.item;
    setChosen();
    show("priority");
    speak("kiosk.speak.priority");
  });
}

// -- step 2: priority --------------------------------------------------------
for (const btn of document.querySelectorAll("[data-priority]")) {
  btn.addEventListener("click", () => {
    state.priority = btn.dataset.priority;
    show("notice");
    speak("kiosk.speak.notice");
  });
}
for (const btn of document.querySelectorAll("[data-back]")) {
  btn.addEventListener("click", () => show(btn.dataset.back));
}

// -- step 3: the recording notice, then join ----------------------------------
$("#notice-confirm").addEventListener("click", () => {
  if (!state.item) return goStart();
  const sent = client.send({
    type: "queue.join",
    item: state.item,
    priority_class: state.priority,
    recording_notice_shown: true,
  });
  if (!sent) return; // offline: the net bar says so; the person can press again
  state.ticket = null;
  showWaiting();
  i18n.setText($("#ahead"), "kiosk.waiting.joining");
  $("#estimate").textContent = "";
  $("#ticket-number").hidden = true;
  $("#place").textContent = "–";
});

// -- waiting -------------------------------------------------------------------
function showWaiting() {
  if (state.screen !== "waiting") show("waiting");
  // The camera check happens now, while waiting: a problem is told in plain words
  // before the call, and the person sees their own picture.
  client.acquireMedia();
}

function renderStatus(msg) {
  $("#place").textContent = String(msg.position);
  if (msg.ahead > 0) i18n.setText($("#ahead"), "kiosk.waiting.ahead", { n: msg.ahead });
  else i18n.setText($("#ahead"), "kiosk.waiting.next");
  const minutes = Math.max(1, Math.ceil((msg.estimated_wait_s || 0) / 60));
  const note = $("#waiting-note");
  if (msg.state === "called") {
    $("#estimate").textContent = "";
    i18n.setText(note, "kiosk.waiting.called");
    note.hidden = false;
  } else {
    renderEstimate(msg, minutes);
    if (msg.state === "away") i18n.setText(note, "kiosk.waiting.away");
    else if (state.requeued) renderRequeued(msg.position);
    note.hidden = msg.state !== "away" && !state.requeued;
  }
  const number = $("#ticket-number");
  if (msg.ticket_number) i18n.setText(number, "kiosk.waiting.number", { number: msg.ticket_number });
  number.hidden = !msg.ticket_number;
  if (msg.ticket !== state.ticket) {
    if (msg.ticket_number) speak("kiosk.speak.queued.number", { number: msg.ticket_number, n: msg.ahead });
    else speak("kiosk.speak.queued", { n: msg.ahead });
  }
  else if (msg.ahead === 0 && state.lastAhead !== 0) speak("kiosk.waiting.next");
  state.ticket = msg.ticket;
  state.lastAhead = msg.ahead;
}

/** The wait in minutes; or, with no reviewer online, that and the service hours. */
function renderEstimate(msg, minutes) {
  const el = $("#estimate");
  if (msg.estimated_wait_s !== null && msg.estimated_wait_s !== undefined) {
    i18n.setText(el, "kiosk.waiting.estimate", { n: minutes });
  } else if (!msg.hours) {
    i18n.setText(el, "kiosk.waiting.offline");
  } else {
    const hours = { zh: msg.hours.zh, en: msg.hours.en };
    const key = msg.hours.open_now === false ? "kiosk.waiting.closed" : "kiosk.waiting.offline.hours";
    i18n.setText(el, key, { hours });
  }
}

/** The reviewer's connection was lost: we are back in line, near or at the head. */
function renderRequeued(position) {
  const note = $("#waiting-note");
  const key = state.requeued || "kiosk.requeued";
  if (position > 1) i18n.setText(note, `${key}.behind`, { n: position });
  else i18n.setText(note, key);
  note.hidden = false;
}

$("#leave").addEventListener("click", () => {
  $("#leave-confirm").hidden = false;
});
$("#leave-no").addEventListener("click", () => {
  $("#leave-confirm").hidden = true;
});
$("#leave-yes").addEventListener("click", () => {
  $("#leave-confirm").hidden = true;
  client.send({ type: "queue.leave" }); // queue.left brings us back to the start
});

// -- media warnings ----------------------------------------------------------------
function updateMediaWarning() {
  const el = $("#media-warning");
  if (!["waiting", "call"].includes(state.screen)) el.hidden = true;
  else view.renderMediaWarning(el, client.local);
}

function attachLocal(local) {
  view.attachLocal([$("#preview-video"), $("#self-video")], local);
  document.body.classList.toggle("no-self-video", !local.video);
  updateMediaWarning();
  renderToggles();
}

// -- the call ----------------------------------------------------------------------
const TOGGLE_KEYS = {
  mute: "kiosk.call.mute",
  unmute: "kiosk.call.unmute",
  cameraOff: "kiosk.call.camera_off",
  cameraOn: "kiosk.call.camera_on",
};

function renderCallStatus() {
  view.renderStatus($("#call-status"), $("#peer-media-note"), client, state.pcState, state.mediaFailed);
  const live = state.pcState === "connected" && client.sessionState?.peer_connection === "connected";
  if (live && !state.spokeConnected) {
    state.spokeConnected = true;
    speak("kiosk.speak.connected");
  }
}

function renderToggles() {
  view.renderToggles($("#toggle-audio"), $("#toggle-video"), client, TOGGLE_KEYS);
}

$("#toggle-audio").addEventListener("click", () => {
  client.setAudio(!client.audioOn);
  renderToggles();
});
$("#toggle-video").addEventListener("click", () => {
  client.setVideo(!client.videoOn);
  renderToggles();
});
$("#end-call").addEventListener("click", () => {
  $("#end-confirm").hidden = false;
});
$("#end-no").addEventListener("click", () => {
  $("#end-confirm").hidden = true;
});
$("#end-yes").addEventListener("click", () => {
  $("#end-confirm").hidden = true;
  // Whether the matter is completed is the reviewer's call, not the applicant's.
  client.endSession("incomplete");
});
view.wireSoundButton($("#sound-blocked"), $("#remote-video"));
$("#again").addEventListener("click", () => {
  goStart();
  speak("kiosk.speak.choose");
});

// -- the connection ------------------------------------------------------------------
const token = takeToken();
holdHistory();
const docCamera = new DocCamera(); // the document camera (高拍仪), if staff chose one
const client = new RwClient({ token, docCamera });
// 视频会商 / 云踏勘: the other participants beyond the reviewer, seen and heard.
window.rwParty = mountGrid(client, document.querySelector("#party-grid"));
window.rw = client; // for tests and the curious: window.rw.pc, window.rw.quality()
window.rwDocCamera = docCamera;
wireDocCamera(client, docCamera, { token, speak: (names) => speakText(i18n.pick(names)) });

let catalogue = null;

async function showPlace(code) {
  const el = $("#kiosk-place");
  if (!code) return;
  try {
    catalogue ??= await loadCatalogue();
  } catch {
    return;
  }
  const place = catalogue.places[code];
  if (place) i18n.setNames(el, place.names);
}

function showNet(key) {
  const bar = $("#netbar");
  if (key) i18n.setText(bar, key);
  bar.hidden = !key;
}

client.on("open", () => showNet(null));
client.on("reconnecting", () => {
  if (client.everOpened) showNet("common.net.reconnecting");
});
client.on("close", async ({ opened }) => {
  if (opened || client.everOpened) return;
  // Never connected: is the device token still valid?
  try {
    const resp = await fetch("/api/me", { headers: { Authorization: `Bearer ${token}` } });
    if (resp.status === 401) {
      client.close();
      show("unregistered");
    }
  } catch {
    /* the server is unreachable: keep retrying */
  }
});

client.on("welcome", (msg) => {
  showPlace(msg.place);
  // `resume` says what follows: our ticket (queue.status), our session
  // (session.paired), or nothing because we have neither.
  if (msg.resume !== "none") return;
  if (state.screen === "call") {
    client.closePeer();
    client.releaseMedia();
    showEnded("kiosk_lost");
  } else if (["loading", "waiting"].includes(state.screen)) {
    goStart(state.screen === "waiting" ? "kiosk.left.expired" : null);
  }
});

client.on("queue.status", (msg) => {
  state.item = msg.item;
  state.priority = msg.priority_class;
  setChosen();
  if (state.screen !== "call") showWaiting();
  renderStatus(msg);
});

client.on("queue.left", (msg) => {
  client.releaseMedia();
  goStart(msg.reason === "expired" ? "kiosk.left.expired" : null);
});

client.on("session.paired", (msg) => {
  state.item = msg.item;
  setChosen();
  if (state.screen !== "call") {
    state.pcState = null;
    state.mediaFailed = false;
    state.spokeConnected = false;
    state.requeued = false;
    show("call");
    speak("kiosk.speak.turn");
  }
  renderCallStatus();
  renderToggles();
});

client.on("session.state", () => renderCallStatus());
wireObserverNotice(client, $("#call-status"));
client.on("pcstate", ({ state: pcState }) => {
  state.pcState = pcState;
  if (pcState === "connected") state.mediaFailed = false;
  if (state.screen === "call") renderCallStatus();
});
client.on("mediaerror", () => {
  state.mediaFailed = true;
  if (state.screen === "call") renderCallStatus();
});
client.on("localmedia", attachLocal);
client.on("remotestream", ({ stream }) => {
  view.attachRemote($("#remote-video"), stream, $("#sound-blocked"));
});

function showEnded(outcome) {
  const lost = /_lost$|_left$/.test(outcome || "");
  i18n.setText($("#ended-title"), lost ? "kiosk.ended.lost.title" : "kiosk.ended.title");
  i18n.setText($("#ended-body"), lost ? "kiosk.ended.lost" : "kiosk.ended.body");
  show("ended");
  clearTimeout(endedTimer);
  endedTimer = setTimeout(() => goStart(), ENDED_RESET_MS);
}

client.on("session.ended", (msg) => {
  $("#remote-video").srcObject = null;
  if (REQUEUED_OUTCOMES.has(msg.outcome)) {
    // Not the applicant's doing: they wait again at the head of the line
    // (queue.status follows), with their camera still on.
    // The words say why: the reviewer's connection, or the server carrying the call.
    state.requeued = msg.outcome === "server_lost" ? "kiosk.requeued.server" : "kiosk.requeued";
    showWaiting();
    renderRequeued(Number($("#place").textContent) || 1);
    speak(state.requeued);
    return;
  }
  client.releaseMedia();
  const lost = /_lost$|_left$/.test(msg.outcome || "");
  const ended = () => {
    showEnded(msg.outcome);
    if (!lost) speak("kiosk.speak.ended");
  };
  if (lost || !state.spokeConnected) return ended();
  // 好差评 (kiosk_rating.js): offered after a session that went live, skippable.
  const idle = () => goStart();
  offerRating({ sessionId: msg.session_id, token, show, done: ended, idle }).then((offered) => {
    if (!offered) ended();
  });
});

client.on("error", (msg) => {
  console.warn("kiosk: server error", msg);
  if (msg.ref === "queue.join" && state.screen === "waiting" && !state.ticket) {
    const key = i18n.has(`error.${msg.code}`) ? `error.${msg.code}` : "error.internal";
    goStart(key);
  }
});

i18n.onChange(() => renderPage());

renderPage();
setChosen();
if (!token) {
  show("unregistered");
} else {
  show("loading");
  client.connect();
}
