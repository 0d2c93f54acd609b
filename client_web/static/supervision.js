// supervision.js — the supervisors' live dashboard (监督看板, 审管联动).
// A supervisor's socket receives supervision.snapshot on connect and
// supervision.update whenever something changes (signaling/PROTOCOL.md): the
// page never polls. Waits and durations tick on locally between pushes.
// An admin has no socket: the page reads GET /api/supervision once (read-only).

import * as i18n from "./i18n.js";
import { RwClient } from "./rwclient.js";
import { attachPlayer } from "./supervision_player.js";
import { bindLogout } from "./staff.js";
import { names as L } from "./supervision_strings.js";

const $ = (sel) => document.querySelector(sel);
let current = null; // the last snapshot
let receivedAt = 0; // performance.now() when it came
let connected = false;
let client = null; // the supervisor's socket (none for an admin)
const observing = new Set(); // session ids this page observes (session.observer acks)

function span(names_, cls = "") {
  const el = document.createElement("span");
  if (cls) el.className = cls;
  i18n.setNames(el, names_);
  return el;
}

function duration(total) {
  const s = Math.max(0, Math.floor(total));
  if (s < 60) return L("seconds", { s });
  if (s < 3600) return L("minutes", { m: Math.floor(s / 60), s: s % 60 });
  return L("hours", { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

// A cell whose seconds count on from the snapshot's time (data-base).
function ticking(seconds, cls = "n") {
  const td = document.createElement("td");
  td.className = `${cls} tick`;
  td.dataset.base = String(seconds);
  i18n.setNames(td, duration(seconds));
  return td;
}

function cell(content, cls = "") {
  const td = document.createElement("td");
  if (cls) td.className = cls;
  if (content instanceof Node) td.append(content);
  else if (content && typeof content === "object") i18n.setNames(td, content);
  else td.textContent = content ?? "";
  return td;
}

function fill(tableId, rows, columns) {
  const body = $(`#${tableId} tbody`);
  body.replaceChildren();
  if (!rows.length) {
    const tr = document.createElement("tr");
    tr.className = "empty";
    const td = cell(L("none"));
    td.colSpan = columns;
    tr.append(td);
    body.append(tr);
  }
  // Each cell names its column, for the narrow layout (supervision.css).
  const heads = [...document.querySelectorAll(`#${tableId} thead th`)].map((th) => th.textContent);
  for (const tr of rows) {
    [...tr.children].forEach((td, n) => {
      td.dataset.label = heads[n] || "";
    });
    body.append(tr);
  }
}

function clock(iso) {
  const d = new Date(iso);
  return d.toLocaleTimeString(i18n.lang() === "en" ? "en-GB" : "zh-CN", { hour12: false });
}

function queueRows(queues) {
  const rows = [];
  for (const q of queues) {
    const places = q.places.length ? q.places : [null];
    places.forEach((p, n) => {
      const tr = document.createElement("tr");
      tr.dataset.queue = q.queue;
      tr.dataset.place = p ? p.place : "";
      if (p && p.longest_wait_s >= 900) tr.className = "long";
      tr.append(cell(n === 0 ? q.names : ""));
      tr.append(cell(p ? p.names : L("nobodyWaiting"), p ? "" : "muted"));
      tr.append(cell(String(p ? p.waiting : 0), "n waiting"));
      tr.append(p && p.waiting ? ticking(p.longest_wait_s, "n longest") : cell("–", "n longest"));
      const online = cell(String(q.reviewers_online), "n reviewers");
      if (!q.reviewers_online && p) online.classList.add("bad");
      tr.append(online);
      rows.push(tr);
    });
  }
  return rows;
}

function sessionRows(sessions) {
  return sessions.map((s) => {
    const tr = document.createElement("tr");
    tr.dataset.session = s.session_id;
    tr.dataset.state = s.state;
    tr.append(cell(s.names), cell(s.place_names), cell(s.reviewer, "reviewer"));
    tr.append(cell(s.ticket_number || L(`role.${s.applicant_role}`)));
    tr.append(cell(L(`state.${s.state}`), `state ${s.state}`));
    tr.append(cell(clock(s.live_at || s.created_at)), ticking(s.duration_s, "n duration"));
    tr.append(observeCell(s));
    return tr;
  });
}

function observeCell(s) {
  const td = document.createElement("td");
  td.className = "observe";
  if (!client) return td; // read-only
  const on = observing.has(s.session_id);
  const btn = document.createElement("button");
  btn.type = "button";
  btn.className = `btn small ${on ? "" : "primary"} observe-btn`;
  i18n.setNames(btn, L(on ? "unobserve" : "observe"));
  btn.addEventListener("click", () => {
    btn.disabled = true;
    client.send({ type: on ? "supervision.unobserve" : "supervision.observe", session_id: s.session_id });
  });
  td.append(btn);
  return td;
}

function note(names_) {
  const box = $("#sv-msg");
  box.hidden = !names_;
  if (names_) i18n.setNames(box, names_);
}

function departmentRows(depts) {
  return depts
    .filter((d) => d.open > 0)
    .map((d) => {
      const tr = document.createElement("tr");
      tr.dataset.department = d.department;
      tr.append(cell(d.department));
      tr.append(cell(String(d.overdue), d.overdue ? "n bad" : "n"));
      tr.append(cell(String(d.due_soon), d.due_soon ? "n warn" : "n"));
      tr.append(cell(String(d.open), "n"));
      return tr;
    });
}

function worstRows(cases) {
  return cases.map((c) => {
    const tr = document.createElement("tr");
    tr.dataset.case = c.number;
    const link = document.createElement("a");
    link.href = `/case/${encodeURIComponent(c.number)}`;
    link.textContent = c.number;
    tr.append(cell(link), cell(c.names || c.item), cell(c.department), cell(c.deadline));
    const left = c.remaining_working_days;
    const names_ = left < 0 ? L("overdueBy", { n: -left }) : left === 0 ? L("today") : L("days", { n: left });
    tr.append(cell(names_, left < 0 ? "bad" : "warn"));
    return tr;
  });
}

function render(snap) {
  current = snap;
  receivedAt = performance.now();
  const t = snap.totals;
  $("#t-waiting").textContent = String(t.waiting);
  $("#t-longest").dataset.base = String(t.longest_wait_s);
  $("#t-longest").classList.toggle("tick", t.waiting > 0);
  i18n.setNames($("#t-longest"), t.waiting ? duration(t.longest_wait_s) : { zh: "–", en: "–" });
  $("#t-reviewers").textContent = String(t.reviewers_online);
  $("#t-sessions").textContent = String(t.sessions);
  $("#t-due-soon").textContent = String(t.cases_due_soon);
  $("#t-overdue").textContent = String(t.cases_overdue);
  $("#t-followups").textContent = String(t.followups_open);
  $("#t-followups-overdue").textContent = String(t.followups_overdue);
  fill("sv-queues", queueRows(snap.queues), 5);
  for (const id of [...observing]) {
    if (!snap.sessions.some((s) => s.session_id === id)) observing.delete(id);
  }
  fill("sv-sessions", sessionRows(snap.sessions), 8);
  fill("sv-departments", departmentRows(snap.cases.departments), 4);
  fill("sv-worst", worstRows(snap.cases.worst), 5);
  status();
}

function status() {
  const box = $("#sv-live");
  if (!current) return;
  const time = clock(current.at);
  if (box.dataset.role !== "supervisor") i18n.setNames(box, L("readonly", { time }));
  else i18n.setNames(box, L(connected ? "live" : "reconnecting", { time }));
  box.className = `sv-live ${connected || box.dataset.role !== "supervisor" ? "ok" : "down"}`;
}

function tick() {
  if (!current || !connected) return; // a stale picture does not pretend to count on
  const elapsed = (performance.now() - receivedAt) / 1000;
  for (const el of document.querySelectorAll(".tick")) {
    i18n.setNames(el, duration(Number(el.dataset.base) + elapsed));
  }
}

async function readOnce() {
  try {
    const resp = await fetch("/api/supervision", { credentials: "same-origin" });
    const data = await resp.json();
    if (!resp.ok) throw new Error(data.message || data.error || String(resp.status));
    render(data);
  } catch (err) {
    i18n.setNames($("#sv-live"), L("failed", { message: err.message }));
  }
}

function start() {
  bindLogout($("#logout"));
  if ($("#sv-live").dataset.role !== "supervisor") {
    readOnce();
    return;
  }
  // Receive-only: a spot check joins the session's media without camera or microphone.
  client = new RwClient({ autoMedia: true, receiveOnly: true });
  attachPlayer(client, (id) => client.send({ type: "supervision.unobserve", session_id: id }));
  client.on("session.observer", (msg) => {
    if (msg.observing) observing.add(msg.session_id);
    else observing.delete(msg.session_id);
    note(msg.observing ? L("observeNoMedia") : null);
    if (current) render(current);
  });
  client.on("error", (msg) => {
    if (msg.ref && msg.ref.startsWith("supervision.")) {
      note(L("refused", { message: msg.message }));
      if (current) render(current);
    }
  });
  client.on("supervision.snapshot", render);
  client.on("supervision.update", render);
  client.on("open", () => {
    connected = true;
    status();
  });
  client.on("close", () => {
    connected = false;
    observing.clear(); // the server ends observations with the socket
    status();
  });
  client.connect();
  setInterval(tick, 1000);
  i18n.onChange(() => current && render(current));
}

start();
