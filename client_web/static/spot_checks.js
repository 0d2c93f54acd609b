// spot_checks.js — draw a week's random spot checks (随机抽查), redraw to check the
// record, and review each drawn case with the checklist and a verdict.

import * as i18n from "./i18n.js";
import { bindLogout, postJson } from "./staff.js";
import { names as L } from "./spot_checks_strings.js";

const $ = (sel) => document.querySelector(sel);
const CHECKLIST = ["materials_complete", "decision_justified", "time_limit_kept", "conduct"];

function text(tag, names_, cls = "") {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  i18n.setNames(el, names_);
  return el;
}

function status(key, vars = {}, tone = "muted") {
  const box = $("#sc-status");
  i18n.setNames(box, L(key, vars));
  box.className = tone;
}


function reviewCell(check) {
  const td = document.createElement("td");
  if (check.state === "reviewed") {
    const note = check.note || "";
    const verdict = L(`verdict.${check.verdict}`);
    td.append(text("span", L("reviewed", { verdict, by: check.reviewed_by, note })));
    return td;
  }
  const boxes = {};
  for (const key of CHECKLIST) {
    const label = document.createElement("label");
    label.className = "chip";
    const box = document.createElement("input");
    box.type = "checkbox";
    box.dataset.key = key;
    boxes[key] = box;
    label.append(box, text("span", L(key)));
    td.append(label);
  }
  const verdict = document.createElement("select");
  for (const v of ["pass", "fail"]) {
    const opt = text("option", L(`verdict.${v}`));
    opt.value = v;
    verdict.append(opt);
  }
  const note = document.createElement("input");
  note.maxLength = 2000;
  note.setAttribute("aria-label", L("note").zh);
  const send = text("button", L("submit"), "btn small primary sc-submit");
  send.type = "button";
  send.addEventListener("click", async () => {
    const checklist = Object.fromEntries(CHECKLIST.map((k) => [k, boxes[k].checked]));
    try {
      const body = { checklist, verdict: verdict.value, note: note.value };
      await postJson(`/api/spot-checks/${check.id}/review`, body);
      await load();
    } catch (err) {
      status("error", { message: err.message }, "error");
    }
  });
  td.append(verdict, note, send);
  return td;
}

function drawPanel(draw) {
  const panel = document.createElement("section");
  panel.className = "panel sc-draw";
  panel.dataset.week = draw.week;
  const share = Math.round(draw.share * 1000) / 10;
  panel.append(text("h2", L("draw.head", { week: draw.week, seed: draw.seed, share })));
  for (const [department, p] of Object.entries(draw.population)) {
    panel.append(text("p", L("draw.population", { department, cases: p.cases, drawn: p.drawn }), "muted"));
  }
  const table = document.createElement("table");
  table.className = "table";
  const head = document.createElement("tr");
  for (const k of ["col.number", "col.department", "col.review"]) head.append(text("th", L(k)));
  const thead = document.createElement("thead");
  thead.append(head);
  const body = document.createElement("tbody");
  for (const check of draw.checks) {
    const tr = document.createElement("tr");
    tr.dataset.check = String(check.id);
    tr.dataset.state = check.state;
    const num = document.createElement("td");
    num.textContent = check.number;
    const dep = document.createElement("td");
    dep.textContent = check.department;
    tr.append(num, dep, reviewCell(check));
    body.append(tr);
  }
  table.append(thead, body);
  panel.append(table);
  return panel;
}

async function load() {
  const resp = await fetch("/api/spot-checks", { credentials: "same-origin" });
  if (!resp.ok) return status("error", { message: String(resp.status) }, "error");
  const { draws } = await resp.json();
  $("#sc-draws").replaceChildren(...draws.map(drawPanel));
  if (!draws.length) status("none");
}

$("#draw-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const week = $("#d-week").value.trim();
  const seedText = $("#d-seed").value.trim();
  const body = { week };
  if (seedText) body.seed = Number(seedText);
  try {
    const draw = await postJson("/api/spot-checks/draws", body);
    await load();
    status("drawn", { week: draw.week, n: draw.checks.length });
  } catch (err) {
    status("error", { message: err.message }, "error");
  }
});

$("#d-redraw").addEventListener("click", async () => {
  const week = $("#d-week").value.trim();
  try {
    const r = await postJson(`/api/spot-checks/draws/${encodeURIComponent(week)}/redraw`, {});
    if (r.same_sample) status("redraw.same", { seed: r.seed });
    else {
      const missing = r.missing.join(", ") || "-";
      const extra = r.extra.join(", ") || "-";
      status("redraw.differs", { missing, extra }, "error");
    }
  } catch (err) {
    status("error", { message: err.message }, "error");
  }
});

const logout = $("#logout");
if (logout) bindLogout(logout);
load();
