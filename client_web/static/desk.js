// desk.js — the reviewer's desk: queues of their items, call next (叫号),
// then the video call with the applicant, with a connection-quality indicator.

import * as i18n from "./i18n.js";
import { bindLogout } from "./staff.js";
import * as view from "./callview.js";
import { wireCapture } from "./desk_capture.js";
import { wireInspection } from "./desk_inspect.js";
import { RwClient, loadCatalogue } from "./rwclient.js";
import { startInbox } from "./desk_inbox.js";
import { wireObserverNotice } from "./observer_notice.js";
import { mountGrid, mountInvites } from "./desk_party.js";
import { L as partyL } from "./desk_party_strings.js";

const QUALITY_MS = 2000;
const CALL_TIMEOUT_MS = 8000;
const $ = (sel) => document.querySelector(sel);

const state = {
  queues: [],
  queuesAt: 0,
  calling: false,
  pcState: null,
  mediaFailed: false,
  catalogue: null,
};
let callTimer = null;
let qualityTimer = null;

const client = new RwClient({ receiveDocument: true }); // face and document camera
window.rw = client; // tests read window.rw.pc; window.rw.quality() gives the indicator's figures
wireCapture(client);

// -- helpers ------------------------------------------------------------------
function message(key, vars, tone = "") {
  const el = $("#desk-message");
  if (!key) {
    el.hidden = true;
    return;
  }
  i18n.setText(el, key, vars);
  el.className = `message ${tone}`.trim();
  el.hidden = false;
}

function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return i18n.t("common.seconds", { n: s });
  return i18n.t("common.min_sec", { m: Math.floor(s / 60), s: s % 60 });
}

function placeNames(code) {
  const place = state.catalogue?.places?.[code];
  return place ? place.names : { zh: code || "", en: code || "" };
}

function showView(name) {
  $("#queue-view").hidden = name !== "queues";
  $("#call-view").hidden = name !== "call";
  $("#inbox").hidden = name !== "queues";
  document.body.dataset.view = name;
}

// -- queues -------------------------------------------------------------------
function totalWaiting() {
  return state.queues.reduce((n, q) => n + q.waiting, 0);
}

function renderQueues() {
  const body = $("#queue-rows");
  const elapsed = state.queuesAt ? (performance.now() - state.queuesAt) / 1000 : 0;
  for (const q of state.queues) {
    let row = body.querySelector(`tr[data-queue="${CSS.escape(q.queue)}"]`);
    if (!row) {
      row = document.createElement("tr");
      row.dataset.queue = q.queue;
      const name = document.createElement("td");
      row.append(name);
      for (const col of ["waiting", "priority", "away", "longest"]) {
        const td = document.createElement("td");
        td.className = "num";
        td.dataset.col = col;
        row.append(td);
      }
      body.append(row);
    }
    i18n.setNames(row.cells[0], q.names);
    row.querySelector('[data-col="waiting"]').textContent = String(q.waiting);
    row.querySelector('[data-col="priority"]').textContent = String(q.priority_waiting);
    row.querySelector('[data-col="away"]').textContent = String(q.away);
    row.querySelector('[data-col="longest"]').textContent = q.waiting
      ? duration(q.longest_wait_s + elapsed)
      : "–";
    row.classList.toggle("has-waiting", q.waiting > 0);
    row.classList.toggle("has-priority", q.priority_waiting > 0);
  }
  const total = totalWaiting();
  const label = $("#total-waiting");
  if (total) i18n.setText(label, "desk.total", { n: total });
  else i18n.setText(label, "desk.none");
  if (client.session) i18n.setText($("#waiting-others"), "desk.waiting_others", { n: total });
  renderCallButton();
}

function renderCallButton() {
  const btn = $("#call-next");
  btn.disabled = !client.connected || !!client.session || state.calling || totalWaiting() === 0;
  i18n.setText(btn, state.calling ? "desk.calling" : "desk.call_next");
}

$("#call-next").addEventListener("click", () => {
  if (!client.send({ type: "desk.call_next" })) return;
  message(null);
  state.calling = true;
  renderCallButton();
  clearTimeout(callTimer);
  callTimer = setTimeout(() => {
    state.calling = false;
    renderCallButton();
  }, CALL_TIMEOUT_MS);
});

client.on("desk.queues", (msg) => {
  state.queues = msg.queues;
  state.queuesAt = performance.now();
  renderQueues();
});

setInterval(() => {
  if (state.queues.some((q) => q.waiting)) renderQueues();
}, 1000);

// -- the call -----------------------------------------------------------------
function fillSession(msg) {
  const item = state.catalogue?.items?.[msg.item];
  if (item) {
    i18n.setNames($("#call-item"), item.names);
    i18n.setNames($("#call-dept"), item.department);
    const list = $("#call-materials");
    list.replaceChildren(
      ...item.materials.map((m) => {
        const li = document.createElement("li");
        li.textContent = m;
        return li;
      }),
    );
  } else {
    $("#call-item").textContent = msg.item;
  }
  i18n.setNames($("#call-place"), placeNames(msg.place));
  $("#call-number").textContent = msg.ticket_number || "–";
  // The peer is the kiosk (a window at a service centre) or an assisting agent,
  // not the applicant, whose name is not known to the session yet.
  const agent = msg.peer?.role === "agent";
  i18n.setText($("#call-window-label"), agent ? "desk.agent" : "desk.window");
  $("#call-window").textContent = msg.peer?.name || "";
  i18n.setText($("#call-applicant"), "desk.applicant.unknown");
}

const TOGGLE_KEYS = {
  mute: "desk.mute",
  unmute: "desk.unmute",
  cameraOff: "desk.camera_off",
  cameraOn: "desk.camera_on",
};

function renderCallStatus() {
  view.renderStatus($("#call-status"), $("#peer-media-note"), client, state.pcState, state.mediaFailed);
}

function renderToggles() {
  view.renderToggles($("#toggle-audio"), $("#toggle-video"), client, TOGGLE_KEYS);
}

async function renderQuality() {
  const q = await client.quality();
  const box = $("#quality");
  const level = q?.level || "none";
  box.dataset.level = level;
  i18n.setText($("#quality-level"), `desk.quality.${level}`);
  if (q && level !== "none") {
    i18n.setText($("#quality-detail"), "desk.quality.detail", {
      loss: q.loss === null ? "–" : `${(q.loss * 100).toFixed(1)}%`,
      rtt: q.rtt === null ? "–" : `${Math.round(q.rtt * 1000)} ms`,
      fps: q.fps === null ? "–" : Math.round(q.fps),
    });
  } else {
    $("#quality-detail").textContent = "";
  }
  window.rwQuality = q;
}

function startQuality() {
  clearInterval(qualityTimer);
  qualityTimer = setInterval(renderQuality, QUALITY_MS);
}

function stopQuality() {
  clearInterval(qualityTimer);
  qualityTimer = null;
  $("#quality").dataset.level = "none";
  i18n.setText($("#quality-level"), "desk.quality.none");
  $("#quality-detail").textContent = "";
}

client.on("session.paired", (msg) => {
  state.calling = false;
  clearTimeout(callTimer);
  if (document.body.dataset.view !== "call") {
    state.pcState = null;
    state.mediaFailed = false;
  }
  fillSession(msg);
  // A colleague or observer brought in (视频会商) leaves; only the reviewer invites.
  const extra = msg.party && !["applicant", "reviewer"].includes(msg.party);
  $("#party-invite").hidden = extra;
  if (extra) i18n.setNames($("#end-call"), partyL("leave"));
  else i18n.setText($("#end-call"), "desk.end");
  showView("call");
  message(null);
  renderCallStatus();
  renderToggles();
  renderQueues();
  startQuality();
});
client.on("session.state", () => renderCallStatus());
wireObserverNotice(client, $("#call-status"));
client.on("pcstate", ({ state: pcState }) => {
  state.pcState = pcState;
  if (pcState === "connected") state.mediaFailed = false;
  renderCallStatus();
});
client.on("mediaerror", () => {
  state.mediaFailed = true;
  renderCallStatus();
});
client.on("localmedia", (local) => {
  view.attachLocal([$("#self-video")], local);
  renderToggles();
  view.renderMediaWarning($("#media-warning"), local);
});
client.on("remotestream", ({ stream }) => {
  view.attachRemote($("#remote-video"), stream, $("#sound-blocked"));
});
client.on("session.ended", (msg) => {
  stopQuality();
  $("#remote-video").srcObject = null;
  $("#self-video").srcObject = null;
  client.releaseMedia();
  showView("queues");
  const key = `outcome.${msg.outcome}`;
  message("desk.ended", { outcome: i18n.has(key) ? i18n.both(key) : msg.outcome });
  renderQueues();
});

$("#toggle-audio").addEventListener("click", () => {
  client.setAudio(!client.audioOn);
  renderToggles();
});
$("#toggle-video").addEventListener("click", () => {
  client.setVideo(!client.videoOn);
  renderToggles();
});
$("#end-call").addEventListener("click", () => client.endSession("completed"));
view.wireSoundButton($("#sound-blocked"), $("#remote-video"));

// -- errors, connection, sign-out ------------------------------------------------
client.on("error", (msg) => {
  if (msg.ref === "desk.call_next") {
    state.calling = false;
    clearTimeout(callTimer);
    renderCallButton();
    if (msg.code === "not_found") message("desk.nobody", null, "warn");
    else if (msg.code === "wrong_state") message("desk.finish_first", null, "warn");
    else message("common.error", { message: msg.message }, "error");
  } else if (msg.ref !== "rtc.offer") {
    console.warn("desk: server error", msg);
  }
});

function showNet(key) {
  const bar = $("#netbar");
  if (key) i18n.setText(bar, key);
  bar.hidden = !key;
}

client.on("open", () => {
  showNet(null);
  renderCallButton();
});
client.on("reconnecting", () => {
  showNet(client.everOpened ? "common.net.reconnecting" : "common.net.offline");
  renderCallButton();
});
client.on("close", async ({ opened }) => {
  renderCallButton();
  if (opened) return;
  // Refused before it opened: signed out (session expired)?
  try {
    const resp = await fetch("/api/me", { credentials: "same-origin" });
    if (resp.status === 401 || resp.status === 403) {
      client.close();
      location.assign(`/login?next=${encodeURIComponent("/desk")}`);
    }
  } catch {
    /* unreachable: keep retrying */
  }
});

bindLogout($("#logout"), () => client.close());

function renderWho() {
  const who = $("#who");
  const names = placeNames(who.dataset.place);
  const place = i18n.pick(names);
  who.textContent = place ? i18n.t("desk.signed_in", { name: who.dataset.name, place }) : who.dataset.name;
}

i18n.onChange(() => {
  renderWho();
  renderQueues();
});

// 视频会商: the others' videos, inviting a colleague, answering an invitation.
window.rwParty = mountGrid(client, $("#party-grid"));
mountInvites(client, {
  form: $("#party-invite"),
  input: $("#party-account"),
  status: $("#party-status"),
  ring: $("#party-ring"),
});
i18n.setNames($("#party-invite-label"), partyL("account"));
i18n.setNames($("#party-invite-btn"), partyL("invite"));
i18n.setNames($("#party-accept"), partyL("accept"));
i18n.setNames($("#party-decline"), partyL("decline"));

// 云踏勘: invite a mobile inspector, positions, evidence stills, the checklist.
wireInspection(client);

const inbox = startInbox($("#inbox"), client, () => state.catalogue);
window.rwInbox = inbox; // tests read window.rwInbox.state
showView("queues");
client.connect();
loadCatalogue()
  .then((catalogue) => {
    state.catalogue = catalogue;
    renderWho();
    inbox.render();
    if (client.session) fillSession(client.session);
  })
  .catch((err) => console.warn("desk: catalogue", err));
