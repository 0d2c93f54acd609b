// village.js — 乡村随身办 (/village): tabs for the video session on an applicant's
// behalf (village_call.js), the counter (/agent), convenience records and the
// agent's points this month.

import { pick, setNames } from "./i18n.js";
import { bindLogout } from "./staff.js";
import { mountVideo } from "./village_call.js";
import { fileRecord, ledger, listRecords } from "./village_api.js";
import { names, refused } from "./village_strings.js";

bindLogout(document.querySelector("#logout"));
const $ = (sel) => document.querySelector(sel);
const point = $("#village-place")?.dataset.point || "";
const message = $("#v-message");

function say(text, kind = "") {
  message.hidden = !text;
  message.className = `message ${kind}`.trim();
  if (text) setNames(message, text);
}

// -- tabs ---------------------------------------------------------------------
function showTab(name) {
  for (const tab of document.querySelectorAll(".v-tab[data-tab]")) {
    tab.setAttribute("aria-pressed", String(tab.dataset.tab === name));
  }
  for (const panel of document.querySelectorAll(".v-panel")) panel.hidden = panel.dataset.panel !== name;
  if (name === "points") refreshPoints();
  if (name === "records") refreshRecords();
}
for (const tab of document.querySelectorAll(".v-tab[data-tab]")) {
  tab.addEventListener("click", () => showTab(tab.dataset.tab));
}

// -- convenience records ---------------------------------------------------------
const itemNames = {};
for (const btn of document.querySelectorAll(".v-item")) {
  itemNames[btn.dataset.item] = { zh: btn.dataset.zh, en: btn.dataset.en };
  btn.addEventListener("click", () => {
    for (const f of document.querySelectorAll(".rec-form")) f.hidden = f.dataset.item !== btn.dataset.item;
    $("#rec-items").hidden = true;
  });
}

function closeForms() {
  for (const f of document.querySelectorAll(".rec-form")) {
    f.hidden = true;
    f.reset();
  }
  $("#rec-items").hidden = false;
}

for (const form of document.querySelectorAll(".rec-form")) {
  form.querySelector(".rec-cancel").addEventListener("click", closeForms);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const fields = {};
    for (const el of form.elements) {
      if (el.name?.startsWith("f.") && el.value !== "") fields[el.name.slice(2)] = el.value;
    }
    const res = await fileRecord({
      item: form.dataset.item,
      applicant_name: form.elements.applicant_name.value,
      applicant_id: form.elements.applicant_id.value,
      applicant_disabled: form.elements.applicant_disabled.checked,
      fields,
    });
    if (!res.ok) return say(refused(res.status, res.body), "error");
    say(names("rec.filed", { item: itemNames[form.dataset.item], points: res.body.points }), "ok");
    closeForms();
    refreshRecords();
  });
}

async function refreshRecords() {
  const res = await listRecords();
  const list = $("#rec-list");
  list.replaceChildren();
  if (!res.ok) return say(refused(res.status, res.body), "error");
  if (!res.body.records.length) {
    const li = document.createElement("li");
    setNames(li, names("rec.none"));
    list.append(li);
  }
  for (const r of res.body.records) {
    const li = document.createElement("li");
    li.dataset.record = r.id;
    const at = new Date(r.filed_at).toLocaleString();
    const item = itemNames[r.item] || { zh: r.item, en: r.item };
    setNames(li, names("rec.line", { at, item, name: r.applicant.name, id: r.applicant.id_number }));
    list.append(li);
  }
}

// -- points --------------------------------------------------------------------------
async function refreshPoints() {
  if (!point) return;
  const res = await ledger(point);
  if (!res.ok) return say(refused(res.status, res.body), "error");
  const body = res.body;
  $("#pt-month").textContent = body.month;
  $("#pt-total").textContent = String(body.total);
  const state = $("#pt-state");
  if (body.confirmed) setNames(state, names("pt.confirmed", { at: body.confirmed.at.slice(0, 10) }));
  else setNames(state, names("pt.open"));
  const list = $("#pt-list");
  list.replaceChildren();
  if (!body.entries.length) {
    const li = document.createElement("li");
    setNames(li, names("pt.none"));
    list.append(li);
  }
  for (const e of body.entries) {
    const li = document.createElement("li");
    li.dataset.entry = e.id;
    li.dataset.kind = e.kind;
    const kind = names(`kind.${e.kind}`);
    const what = e.case || (e.record ? `#${e.record}` : "");
    li.textContent = `${e.points > 0 ? "+" : ""}${e.points} · ${pick(kind)} ${what} ${e.reason || ""}`.trim();
    list.append(li);
  }
}

if ($("#vs-form")) mountVideo($("#video-panel"), { say, onCaseChange: () => refreshPoints() });
refreshPoints();
document.body.dataset.ready = "1"; // every control is wired (tests wait for it)
