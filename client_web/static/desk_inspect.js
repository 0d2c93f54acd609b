// desk_inspect.js — 云踏勘 on the reviewer's desk: invite a mobile inspector for
// the linked case (QR code, short link, SMS text to copy), the inspector's
// position live (coordinates, accuracy, compass bearing and distance from the
// previous fix, a small SVG track: no outside map tiles), evidence stills as
// they are stored, and the inspection checklist ticked with a still each.

import * as i18n from "./i18n.js";
import { L } from "./desk_inspect_strings.js";
import { csrf } from "./staff.js";

const $ = (sel) => document.querySelector(sel);
const COMPASS = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"];
const TRACK_POINTS = 200;

const state = {
  session: null,
  case: null,
  points: [],
  checks: new Map(), // point -> evidence n
  evidence: new Map(), // n -> record
  images: new Map(), // n -> object URL (stamped copy)
  fixes: [],
  invitation: null,
};
window.rwDeskInspect = state;

async function api(path, options = {}) {
  const resp = await fetch(path, {
    credentials: "same-origin",
    ...options,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(), ...(options.headers || {}) },
  });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(body.message || `HTTP ${resp.status}`);
  return body;
}

function say(names, tone = "") {
  const el = $("#inspect-desk-status");
  i18n.setNames(el, names);
  el.className = `message ${tone}`.trim();
  el.hidden = false;
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

// -- the invitation ------------------------------------------------------------
async function invite(ev) {
  ev.preventDefault();
  if (!state.session || !state.case) return;
  try {
    const inv = await api("/api/inspections", {
      method: "POST",
      body: JSON.stringify({ session: state.session, case: state.case, name: $("#inspect-name").value.trim() }),
    });
    state.invitation = inv;
    const box = $("#inspect-invitation");
    $("#inspect-qr").innerHTML = inv.qr_svg; // server-made SVG of the link (segno)
    const link = $("#inspect-link");
    link.textContent = inv.url;
    link.href = inv.url;
    $("#inspect-sms").value = inv.sms;
    i18n.setNames($("#inspect-expires"), L("expires", { n: inv.minutes }));
    box.hidden = false;
    say(L("invited"));
  } catch (err) {
    say({ zh: err.message, en: err.message }, "error");
  }
}

function copy(text) {
  navigator.clipboard?.writeText(text).then(
    () => say(L("copied")),
    () => say(L("copy.failed"), "warn"),
  );
}

// -- positions ---------------------------------------------------------------------
function compass(deg) {
  return COMPASS[Math.round(deg / 45) % 8];
}

function showFix(fix) {
  state.fixes.push(fix);
  if (state.fixes.length > TRACK_POINTS) state.fixes.shift();
  const box = $("#inspect-fix");
  box.dataset.lat = fix.lat;
  box.dataset.lon = fix.lon;
  const when = new Date(fix.server_time * 1000).toLocaleTimeString();
  let text = `${fix.lat.toFixed(6)}, ${fix.lon.toFixed(6)} ±${Math.round(fix.accuracy)} m · ${when}`;
  if (typeof fix.distance_m === "number") {
    text += ` · ${compass(fix.bearing_deg)} ${Math.round(fix.bearing_deg)}° ${fix.distance_m.toFixed(0)} m`;
  }
  box.textContent = text;
  drawTrack();
}

function drawTrack() {
  const svg = $("#inspect-track");
  const fixes = state.fixes;
  const lats = fixes.map((f) => f.lat);
  const lons = fixes.map((f) => f.lon);
  const minLat = Math.min(...lats);
  const minLon = Math.min(...lons);
  const span = Math.max(Math.max(...lats) - minLat, Math.max(...lons) - minLon, 0.0001);
  const xy = fixes.map((f) => [10 + ((f.lon - minLon) / span) * 180, 190 - ((f.lat - minLat) / span) * 180]);
  const points = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
  const [lx, ly] = xy[xy.length - 1];
  svg.innerHTML =
    `<polyline points="${points}" fill="none" stroke="#1565c0" stroke-width="2"/>` +
    `<circle cx="${lx.toFixed(1)}" cy="${ly.toFixed(1)}" r="5" fill="#c62828"/>` +
    `<text x="4" y="14" font-size="12">N ↑</text>`;
  svg.hidden = false;
}

// -- evidence ---------------------------------------------------------------------------
async function showEvidence(record) {
  state.evidence.set(record.n, record);
  const list = $("#inspect-evidence");
  let li = list.querySelector(`li[data-n="${record.n}"]`);
  if (!li) {
    li = el("li", { "data-n": String(record.n) });
    const img = el("img", { class: "inspect-thumb", alt: `#${record.n}` });
    const caption = el("span", { class: "inspect-caption" });
    li.append(img, caption);
    list.append(li);
    const resp = await fetch(`/api/register/cases/${encodeURIComponent(state.case)}/evidence/${record.n}`, {
      credentials: "same-origin",
    });
    if (resp.ok) {
      const url = URL.createObjectURL(await resp.blob());
      state.images.set(record.n, url);
      img.src = url;
    }
  }
  const gps = record.gps ? `${record.gps.lat.toFixed(5)}, ${record.gps.lon.toFixed(5)} ±${Math.round(record.gps.accuracy)} m` : "—";
  li.querySelector(".inspect-caption").textContent = `#${record.n} ${record.point || ""} ${gps}`;
  renderChecklist();
}

// -- the checklist --------------------------------------------------------------------------
function renderChecklist() {
  const list = $("#inspect-checklist");
  list.replaceChildren();
  for (const point of state.points) {
    const done = state.checks.get(point);
    const li = el("li", { "data-point": point, "data-state": done ? "checked" : "open" });
    li.append(el("span", { class: "inspect-point-name" }, point));
    if (done) {
      const tick = el("span", { class: "inspect-tick" });
      i18n.setNames(tick, L("checked", { n: done }));
      li.append(tick);
    }
    const select = el("select", { "data-point-evidence": point });
    for (const n of [...state.evidence.keys()].sort((a, b) => b - a)) {
      select.append(el("option", { value: String(n) }, `#${n}`));
    }
    const button = el("button", { type: "button", class: "btn small", "data-tick": point });
    i18n.setNames(button, L("tick"));
    button.disabled = state.evidence.size === 0;
    button.addEventListener("click", () => tick(point, Number(select.value)));
    li.append(select, button);
    list.append(li);
  }
}

async function tick(point, n) {
  try {
    await api(`/api/register/cases/${encodeURIComponent(state.case)}/inspection/checks`, {
      method: "POST",
      body: JSON.stringify({ point, evidence: n }),
    });
    state.checks.set(point, n);
    renderChecklist();
  } catch (err) {
    say({ zh: err.message, en: err.message }, "error");
  }
}

async function loadCase(msg) {
  state.session = msg.session_id;
  state.case = msg.case;
  const listing = await api(`/api/register/cases/${encodeURIComponent(msg.case)}/evidence`);
  state.points = listing.points.map((p) => p.point);
  for (const p of listing.points) if (p.check) state.checks.set(p.point, p.check.evidence);
  const select = $("#inspect-point-select");
  select.replaceChildren(el("option", { value: "" }, "—"));
  for (const point of state.points) select.append(el("option", { value: point }, point));
  $("#inspect-box").hidden = false;
  renderChecklist();
  for (const record of listing.evidence) await showEvidence(record);
}

function reset() {
  for (const url of state.images.values()) URL.revokeObjectURL(url);
  Object.assign(state, { session: null, case: null, points: [], fixes: [], invitation: null });
  state.checks.clear();
  state.evidence.clear();
  state.images.clear();
  $("#inspect-box").hidden = true;
  $("#inspect-invitation").hidden = true;
  $("#inspect-evidence").replaceChildren();
  $("#inspect-fix").textContent = "";
  $("#inspect-track").hidden = true;
  $("#inspect-desk-status").hidden = true;
}

export function wireInspection(client) {
  for (const node of document.querySelectorAll("[data-inspect-desk]")) {
    i18n.setNames(node, L(node.dataset.inspectDesk));
  }
  $("#inspect-invite").addEventListener("submit", invite);
  $("#inspect-copy-link").addEventListener("click", () => copy($("#inspect-link").textContent));
  $("#inspect-copy-sms").addEventListener("click", () => copy($("#inspect-sms").value));
  $("#inspect-capture-btn").addEventListener("click", () => {
    client.send({ type: "inspect.capture", point: $("#inspect-point-select").value });
    say(L("capturing"));
  });
  client.on("doc.case", (msg) => loadCase(msg).catch((err) => console.warn("desk: inspection", err)));
  client.on("inspect.fix", (msg) => showFix(msg.fix));
  client.on("inspect.evidence", (msg) => {
    say(L("stored", { n: msg.evidence.n }));
    showEvidence(msg.evidence);
  });
  client.on("inspect.capture_failed", (msg) => say(msg.notice, "warn"));
  client.on("inspect.checked", (msg) => {
    state.checks.set(msg.point, msg.evidence);
    renderChecklist();
  });
  client.on("error", (msg) => {
    if (msg.ref === "inspect.capture") say({ zh: msg.message, en: msg.message }, "error");
  });
  client.on("session.ended", reset);
  i18n.onChange(renderChecklist);
}
