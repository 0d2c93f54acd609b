// cases.js — the case list: filter by date, service, place and reviewer
// (GET /api/cases), each row linking to its replay page (and to the case page
// of the register case it is linked to). Reviewers only ever
// get their own cases (the server enforces it); the filters live in the URL.

import * as i18n from "./i18n.js";
import { bindLogout } from "./staff.js";

const S = {
  loading: { zh: "正在加载…", en: "Loading…" },
  none: { zh: "没有符合条件的案卷。", en: "No cases match." },
  count: { zh: "共 {n} 个案卷（最新的在前）", en: "{n} cases (newest first)" },
  more: {
    zh: "只显示最新的 {n} 个，请缩小查询范围。",
    en: "Only the newest {n} are shown; narrow the search.",
  },
  error: { zh: "加载失败（{status}）。", en: "Could not load the cases ({status})." },
  replay: { zh: "回放", en: "Replay" },
  file: { zh: "办件 {number}", en: "Case {number}" },
  unsigned: { zh: "未签名", en: "unsigned" },
  unsignedTitle: {
    zh: "案卷没有有效签名，可能被伪造或已损坏，不能回放",
    en: "No valid signature: the case may be forged or damaged and cannot be replayed",
  },
};

const L = i18n.stringTable(S).names;

const $ = (sel) => document.querySelector(sel);
const form = $("#case-filter");
const FIELDS = ["date", "item", "place", "reviewer"];
const LIMIT = 100;

function status(key, vars, tone = "muted") {
  const box = $("#cases-status");
  i18n.setNames(box, L(key, vars));
  box.className = tone;
  box.hidden = false;
}

function field(name) {
  return form.elements.namedItem(name);
}

function fromUrl() {
  const query = new URLSearchParams(location.search);
  for (const name of FIELDS) {
    const input = field(name);
    if (input && query.has(name)) input.value = query.get(name);
  }
}

function filters() {
  const out = {};
  for (const name of FIELDS) {
    const value = field(name)?.value.trim();
    if (value) out[name] = value;
  }
  return out;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function started(iso) {
  if (!iso) return "";
  const lang = i18n.lang() === "en" ? "en-GB" : "zh-CN";
  return new Date(iso).toLocaleString(lang, {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  });
}

function cell(row, value, cls) {
  const td = document.createElement("td");
  if (cls) td.className = cls;
  if (value && typeof value === "object" && !(value instanceof Node)) i18n.setNames(td, value);
  else if (value instanceof Node) td.append(value);
  else td.textContent = value ?? "";
  row.append(td);
  return td;
}

let lastCases = null;

function render(cases) {
  lastCases = cases;
  const rows = cases.map((c) => {
    const tr = document.createElement("tr");
    tr.dataset.session = c.id;
    cell(tr, started(c.started_at));
    const item = c.item_names
      ? { zh: `${c.item_names.zh}（${c.item}）`, en: `${c.item_names.en} (${c.item})` }
      : c.item || "";
    cell(tr, item);
    cell(tr, c.place_names || c.place || "");
    cell(tr, c.reviewers.join("、"));
    const outcome = cell(tr);
    const outcomeKey = `outcome.${c.outcome}`;
    if (c.outcome && i18n.has(outcomeKey)) i18n.setText(outcome, outcomeKey);
    else outcome.textContent = c.outcome || "";
    cell(tr, duration(c.duration_s), "num");
    const link = document.createElement("a");
    link.href = `/cases/${encodeURIComponent(c.id)}`;
    link.className = "case-link";
    i18n.setNames(link, L("replay"));
    const code = document.createElement("code");
    code.textContent = c.id;
    const td = cell(tr, link);
    td.append(" ", code);
    if (c.case_number) {
      // The register case the session belongs to: its case page.
      const file = document.createElement("a");
      file.href = `/case/${encodeURIComponent(c.case_number)}`;
      file.className = "case-file-link";
      i18n.setNames(file, L("file", { number: c.case_number }));
      td.append(" ", file);
    }
    if (c.signed === false) {
      // Listed for supervisors so they can look into it; the server refuses to serve it.
      const flag = document.createElement("strong");
      flag.className = "case-unsigned";
      i18n.setNames(flag, L("unsigned"));
      flag.title = i18n.pick(L("unsignedTitle"));
      td.append(" ", flag);
      tr.classList.add("unsigned");
    }
    return tr;
  });
  $("#cases-rows").replaceChildren(...rows);
  $("#cases-table").hidden = cases.length === 0;
  if (!cases.length) status("none");
  else if (cases.length >= LIMIT) status("more", { n: LIMIT }, "message warn");
  else status("count", { n: cases.length });
}

async function search() {
  const query = new URLSearchParams(filters());
  history.replaceState(null, "", query.toString() ? `?${query}` : location.pathname);
  query.set("tz", String(-new Date().getTimezoneOffset()));
  query.set("limit", String(LIMIT));
  status("loading");
  try {
    const resp = await fetch(`/api/cases?${query}`, { credentials: "same-origin" });
    if (!resp.ok) {
      status("error", { status: resp.status }, "message error");
      return;
    }
    render((await resp.json()).cases);
  } catch {
    status("error", { status: "network" }, "message error");
  }
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  search();
});
$("#f-reset").addEventListener("click", () => {
  form.reset();
  search();
});
bindLogout($("#logout"));
i18n.onChange(() => {
  if (lastCases) render(lastCases);
});

fromUrl();
search();
