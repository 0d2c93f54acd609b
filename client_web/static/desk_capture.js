// desk_capture.js — the desk's document camera (高拍仪) and the case of the call:
// the kiosk's second video track beside its face, "受理为办件" / "关联已有办件",
// the linked case's checklist (captured / missing per material, pages in order),
// "拍摄" (doc.capture) and the page viewer (doc_viewer.js) with 标记不清晰.
//
// window.rwCaptureTimes lists, per capture pressed here, the milliseconds from
// the click to the page shown (decoded) in its material's list (the benchmark
// reads it); nothing else depends on it.

import * as i18n from "./i18n.js";
import { L } from "./desk_capture_strings.js";
import { markUnreadable, openViewer } from "./doc_viewer.js";
import { csrf } from "./staff.js";

const BASE = "/api/register/cases";
const CAPTURE_TIMEOUT_MS = 20_000;
const $ = (sel) => document.querySelector(sel);

const state = {
  session: null, // the session id the case belongs to
  case: null, // the case detail (GET /api/register/cases/{number})
  docs: new Map(), // id -> document record
  images: new Map(), // id -> object URL of the fetched page
  pending: null, // {material, at, timer}: a capture pressed here, waiting for its page
  docTrack: null,
};
window.rwCaptureTimes = [];

async function api(path, options = {}) {
  const resp = await fetch(path, {
    credentials: "same-origin",
    ...options,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(), ...(options.headers || {}) },
  });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = new Error(body.message || `HTTP ${resp.status}`);
    err.field = body.field;
    throw err;
  }
  return body;
}

function say(key, vars, tone = "") {
  const el = $("#capture-status");
  if (!key) {
    el.hidden = true;
    return;
  }
  i18n.setNames(el, L(key, vars));
  el.className = `capture-status ${tone}`.trim();
  el.hidden = false;
}

function caseError(err) {
  const el = $("#case-error");
  if (!err) {
    el.hidden = true;
    return;
  }
  i18n.setNames(el, typeof err === "string" ? L(err) : L("error", { message: err.message }));
  el.hidden = false;
}

// -- the document camera's video ---------------------------------------------------
function showDocTrack(stream, track) {
  state.docTrack = track;
  const video = $("#doc-video");
  video.srcObject = stream;
  video.play().catch(() => {});
  $("#doc-stage").hidden = false;
  track.addEventListener("ended", () => {
    if (state.docTrack === track) $("#doc-stage").hidden = true;
  });
}

// -- the case ------------------------------------------------------------------------
function renderCase() {
  const detail = state.case;
  $("#case-new").hidden = !!detail;
  $("#case-linked").hidden = !detail;
  if (!detail) return;
  i18n.setNames($("#case-number"), L("case.number", { number: detail.number }));
  $("#case-number").dataset.case = detail.number;
  i18n.setNames(
    $("#case-applicant"),
    L("case.applicant", { name: detail.applicant.name, id: detail.applicant.id_number }),
  );
  const select = $("#capture-material");
  const chosen = select.value;
  const list = $("#doc-checklist");
  const items = [];
  const options = [];
  for (const entry of detail.checklist) {
    const code = entry.code;
    const pages = [...state.docs.values()]
      .filter((d) => d.material === code)
      .sort((a, b) => a.page - b.page || a.id - b.id);
    const readable = pages.filter((d) => d.state === "ok").length;
    const li = document.createElement("li");
    li.dataset.material = code;
    li.dataset.state = readable > 0 ? "captured" : "missing";
    const head = document.createElement("div");
    head.className = "mat-head";
    const name = document.createElement("span");
    name.className = "mat-name";
    name.textContent = code;
    const badge = document.createElement("span");
    badge.className = `mat-state ${li.dataset.state}`;
    i18n.setNames(badge, readable > 0 ? L("captured", { n: readable }) : L("missing"));
    head.append(name, badge);
    const ol = document.createElement("ol");
    ol.className = "doc-pages";
    for (const doc of pages) ol.append(pageItem(doc));
    li.append(head, ol);
    items.push(li);
    const opt = document.createElement("option");
    opt.value = code;
    opt.textContent = code;
    options.push(opt);
  }
  list.replaceChildren(...items);
  select.replaceChildren(...options);
  const missing = detail.checklist.find((c) => ![...state.docs.values()].some((d) => d.material === c.code && d.state === "ok"));
  select.value = chosen && detail.checklist.some((c) => c.code === chosen) ? chosen : missing?.code || detail.checklist[0]?.code || "";
  renderCaptureButton();
}

function pageItem(doc) {
  const li = document.createElement("li");
  li.dataset.doc = String(doc.id);
  li.dataset.page = String(doc.page);
  li.dataset.state = doc.state;
  const btn = document.createElement("button");
  btn.type = "button";
  btn.className = "doc-thumb-btn";
  const img = document.createElement("img");
  img.className = "doc-thumb";
  img.alt = i18n.pick(L("page.title", { material: doc.material, n: doc.page }));
  const url = state.images.get(doc.id);
  if (url) img.src = url;
  const label = document.createElement("span");
  i18n.setNames(label, L(doc.state === "ok" ? "page" : "page.unreadable", { n: doc.page }));
  btn.append(img, label);
  btn.addEventListener("click", () => openPage(doc.id));
  li.append(btn);
  return li;
}

function openPage(id) {
  const doc = state.docs.get(id);
  if (!doc || !state.case) return;
  const number = state.case.number;
  openViewer({
    src: state.images.get(id) || `${BASE}/${encodeURIComponent(number)}/documents/${id}`,
    title: L("page.title", { material: doc.material, n: doc.page }),
    document: doc,
    canMark: doc.state === "ok",
    onMark: async (reason) => {
      const updated = await markUnreadable(number, id, reason);
      state.docs.set(id, updated);
      renderCase();
      refreshCase();
      return updated;
    },
  });
}

/** Fetch a page once (the fetch is the audited download) and keep it as an object URL. */
async function loadImage(doc) {
  if (state.images.has(doc.id) || !state.case) return;
  const url = `${BASE}/${encodeURIComponent(state.case.number)}/documents/${doc.id}`;
  const resp = await fetch(url, { credentials: "same-origin" });
  if (!resp.ok) return;
  const objectUrl = URL.createObjectURL(await resp.blob());
  state.images.set(doc.id, objectUrl);
}

async function refreshCase() {
  if (!state.case) return;
  try {
    state.case = await api(`${BASE}/${encodeURIComponent(state.case.number)}`);
    renderCase();
  } catch (err) {
    console.warn("desk: case", err);
  }
}

async function setCase(detail) {
  state.case = detail;
  state.docs.clear();
  caseError(null);
  const listed = await api(`${BASE}/${encodeURIComponent(detail.number)}/documents`);
  for (const doc of listed.documents) state.docs.set(doc.id, doc);
  renderCase();
  await Promise.all(listed.documents.map(loadImage));
  renderCase();
}

async function onStored(msg) {
  if (!state.case || msg.case !== state.case.number) return;
  const doc = msg.document;
  state.docs.set(doc.id, doc);
  await loadImage(doc);
  renderCase();
  const pending = state.pending;
  if (pending && doc.material === pending.material && doc.state === "ok") {
    const img = document.querySelector(`#doc-checklist li[data-doc="${doc.id}"] img`);
    if (img) await img.decode().catch(() => {});
    const ms = Math.round(performance.now() - pending.at);
    window.rwCaptureTimes.push(ms);
    clearTimeout(pending.timer);
    state.pending = null;
    say("capture.done", { material: doc.material, page: doc.page, ms }, "ok");
    renderCaptureButton();
  }
  refreshCase();
}

// The kiosk took or stored no still: stop waiting and say why (a capture the
// applicant pressed on the kiosk is told too).
function onFailed(msg) {
  if (!state.case || msg.case !== state.case.number) return;
  if (state.pending?.material === msg.material) {
    clearTimeout(state.pending.timer);
    state.pending = null;
  }
  const key = `failed.${msg.reason_code}`;
  say(key, { material: msg.material }, "warn");
  renderCaptureButton();
}

function renderCaptureButton() {
  const btn = $("#capture-btn");
  btn.disabled = !state.case || !!state.pending || !$("#capture-material").value;
}

function capture() {
  const material = $("#capture-material").value;
  if (!state.case || !material || state.pending) return;
  const sent = state.client.send({ type: "doc.capture", case: state.case.number, material });
  if (!sent) return;
  const timer = setTimeout(() => {
    state.pending = null;
    say("capture.timeout", null, "warn");
    renderCaptureButton();
  }, CAPTURE_TIMEOUT_MS);
  state.pending = { material, at: performance.now(), timer };
  say("capture.busy", { material });
  renderCaptureButton();
}

function reset() {
  clearTimeout(state.pending?.timer);
  for (const url of state.images.values()) URL.revokeObjectURL(url);
  Object.assign(state, { session: null, case: null, pending: null, docTrack: null });
  state.docs.clear();
  state.images.clear();
  $("#doc-video").srcObject = null;
  $("#doc-stage").hidden = true;
  $("#case-create").reset();
  $("#case-link").reset();
  caseError(null);
  say(null);
  renderCase();
}

/** Wire the case box and the document camera into the desk (desk.js calls it once). */
export function wireCapture(client) {
  state.client = client;
  for (const [id, key] of [
    ["case-title", "title"],
    ["doc-video-label", "doc.video"],
    ["case-name-label", "new.name"],
    ["case-id-label", "new.id"],
    ["case-create-btn", "new.create"],
    ["case-link-label", "link.number"],
    ["case-link-btn", "link.go"],
    ["doc-checklist-title", "checklist"],
    ["capture-material-label", "capture.material"],
    ["capture-btn", "capture"],
  ]) {
    i18n.setNames(document.getElementById(id), L(key));
  }
  client.on("doctrack", ({ stream, track }) => showDocTrack(stream, track));
  client.on("session.paired", (msg) => {
    if (state.session !== msg.session_id) reset();
    state.session = msg.session_id;
  });
  client.on("session.ended", () => reset());
  client.on("doc.case", async (msg) => {
    if (msg.session_id !== state.session || state.case?.number === msg.case) return;
    try {
      await setCase(await api(`${BASE}/${encodeURIComponent(msg.case)}`));
    } catch (err) {
      caseError(err);
    }
  });
  client.on("doc.stored", (msg) => onStored(msg));
  client.on("doc.capture_failed", (msg) => onFailed(msg));
  client.on("error", (msg) => {
    if (msg.ref !== "doc.capture") return;
    clearTimeout(state.pending?.timer);
    state.pending = null;
    say("error", { message: msg.message }, "warn");
    renderCaptureButton();
  });

  $("#case-create").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = $("#case-applicant-name").value.trim();
    const id = $("#case-applicant-id").value.trim();
    if (!name || !id) return caseError("error.required");
    const btn = $("#case-create-btn");
    btn.disabled = true;
    try {
      const body = { session: state.session, applicant_name: name, applicant_id: id };
      await setCase(await api(BASE, { method: "POST", body: JSON.stringify(body) }));
    } catch (err) {
      caseError(err);
    } finally {
      btn.disabled = false;
    }
  });
  $("#case-link").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const number = $("#case-link-number").value.trim();
    if (!number) return;
    const btn = $("#case-link-btn");
    btn.disabled = true;
    try {
      const path = `${BASE}/${encodeURIComponent(number)}/sessions`;
      await setCase(await api(path, { method: "POST", body: JSON.stringify({ session: state.session }) }));
    } catch (err) {
      caseError(err);
    } finally {
      btn.disabled = false;
    }
  });
  $("#capture-material").addEventListener("change", renderCaptureButton);
  $("#capture-btn").addEventListener("click", capture);
  i18n.onChange(() => renderCase());
  reset();
}
