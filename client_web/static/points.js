// points.js — the township admin's points ledger (/points): a village point's
// month, manual grants (a reason is required), corrections (a new entry in the
// next open month), the month's confirmation (signed, then frozen) and exports.

import { pick, setNames } from "./i18n.js";
import { bindLogout } from "./staff.js";
import * as api from "./village_api.js";
import { names, refused } from "./village_strings.js";

bindLogout(document.querySelector("#logout"));
const $ = (sel) => document.querySelector(sel);
const message = $("#pt-message");
let fixing = null;

function say(text, kind = "") {
  message.hidden = !text;
  message.className = `message ${kind}`.trim();
  if (text) setNames(message, text);
}

const point = () => $("#pt-point").value;
const month = () => $("#pt-month").value;

async function loadPoints() {
  const res = await api.points();
  if (!res.ok) return say(refused(res.status, res.body), "error");
  const select = $("#pt-point");
  for (const p of res.body.points) {
    const opt = document.createElement("option");
    opt.value = p.code;
    setNames(opt, p.names);
    select.append(opt);
  }
  await loadMonths(res.body.month);
}

async function loadMonths(wanted) {
  const res = await api.months(point());
  if (!res.ok) return say(refused(res.status, res.body), "error");
  const select = $("#pt-month");
  const keep = wanted || month();
  select.replaceChildren();
  for (const m of res.body.months) {
    const opt = document.createElement("option");
    opt.value = m.month;
    opt.textContent = `${m.month}${m.confirmed ? " ✓" : ""}`;
    select.append(opt);
  }
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  await loadAgents();
  await show();
}

async function loadAgents() {
  const res = await api.agents(point());
  const select = $("#gr-agent");
  select.replaceChildren();
  for (const a of res.ok ? res.body.agents : []) {
    const opt = document.createElement("option");
    opt.value = a.username;
    opt.textContent = `${a.name} (${a.username})`;
    select.append(opt);
  }
}

function cell(row, text) {
  const td = document.createElement("td");
  if (text && typeof text === "object") setNames(td, text);
  else td.textContent = text ?? "";
  row.append(td);
  return td;
}

async function show() {
  const res = await api.ledger(point(), month());
  if (!res.ok) return say(refused(res.status, res.body), "error");
  const body = res.body;
  $("#pt-title").textContent = `${body.point_name} ${body.month}`;
  $("#pt-total").textContent = String(body.total);
  const state = $("#pt-state");
  setNames(state, body.confirmed ? names("pt.confirmed", { at: body.confirmed.at.slice(0, 16) }) : names("pt.open"));
  $("#pt-confirm").hidden = Boolean(body.confirmed);
  $("#pt-csv").href = api.exportUrl(body.point, body.month, "csv");
  $("#pt-pdf").href = api.exportUrl(body.point, body.month, "pdf");
  const totals = $("#pt-totals");
  totals.replaceChildren();
  for (const [agent, total] of Object.entries(body.totals)) {
    const li = document.createElement("li");
    li.textContent = `${agent}: ${total}`;
    totals.append(li);
  }
  const rows = $("#pt-rows");
  rows.replaceChildren();
  for (const e of body.entries) {
    const tr = document.createElement("tr");
    tr.dataset.entry = e.id;
    tr.dataset.kind = e.kind;
    cell(tr, `#${e.id}`);
    cell(tr, e.agent);
    cell(tr, names(`kind.${e.kind}`));
    cell(tr, `${e.points > 0 ? "+" : ""}${e.points}`);
    const links = [e.case, e.record ? `R${e.record}` : "", e.corrects ? pick(names("pt.corrects", { id: e.corrects })) : ""];
    cell(tr, links.filter(Boolean).join(" "));
    cell(tr, e.reason);
    const action = cell(tr, "");
    const fix = document.createElement("button");
    fix.type = "button";
    fix.className = "btn small pt-fix";
    setNames(fix, { zh: "更正", en: "Correct" });
    fix.addEventListener("click", () => openFix(e.id));
    action.append(fix);
    rows.append(tr);
  }
  const verified = $("#pt-verified");
  verified.textContent = "";
  if (body.confirmed) {
    const check = await api.statement(body.point, body.month);
    if (check.ok) {
      const b = check.body;
      setNames(verified, b.verified ? names("pt.verified") : names("pt.broken", { problem: b.problem }));
    }
  }
}

function openFix(id) {
  fixing = id;
  $("#fx-id").textContent = String(id);
  $("#pt-fix-panel").hidden = false;
  $("#fx-points").focus();
}

$("#fx-cancel").addEventListener("click", () => {
  $("#pt-fix-panel").hidden = true;
});
$("#pt-fix").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const res = await api.correct(fixing, Number($("#fx-points").value), $("#fx-reason").value);
  if (!res.ok) return say(refused(res.status, res.body), "error");
  say(names("ok.corrected", { month: res.body.month }), "ok");
  $("#pt-fix").reset();
  $("#pt-fix-panel").hidden = true;
  await loadMonths(month());
});
$("#pt-grant").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const res = await api.grant({
    point: point(),
    agent: $("#gr-agent").value,
    points: Number($("#gr-points").value),
    reason: $("#gr-reason").value,
    month: month(),
  });
  if (!res.ok) return say(refused(res.status, res.body), "error");
  say(names("ok.granted", { points: res.body.points }), "ok");
  $("#pt-grant").reset();
  await show();
});
$("#pt-confirm").addEventListener("click", async () => {
  const res = await api.confirmMonth(point(), month());
  if (!res.ok) return say(refused(res.status, res.body), "error");
  say(names("ok.confirmed", { month: month() }), "ok");
  await loadMonths(month());
});
$("#pt-point").addEventListener("change", () => loadMonths());
$("#pt-month").addEventListener("change", () => show());

loadPoints().then(() => {
  document.body.dataset.ready = "1"; // the first point's month is shown (tests wait for it)
});
