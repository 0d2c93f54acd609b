// followups.js — the supervisor's follow-ups (整改) of bad ratings: list them,
// write the response, then check and close each with a verdict.
// GET /api/followups, POST /api/followups/{id}/respond and /close.

import * as i18n from "./i18n.js";
import { bindLogout, postJson } from "./staff.js";
import { names as L } from "./followups_strings.js";

const $ = (sel) => document.querySelector(sel);

function text(tag, names_, cls = "") {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  i18n.setNames(el, names_);
  return el;
}

function status(key, vars = {}, tone = "muted") {
  const box = $("#fu-status");
  i18n.setNames(box, L(key, vars));
  box.className = tone;
}


function field(labelKey, input) {
  const label = document.createElement("label");
  label.className = "field";
  label.append(text("span", L(labelKey)), input);
  return label;
}

function card(fu) {
  const el = document.createElement("article");
  el.className = "panel fu";
  el.dataset.id = String(fu.id);
  el.dataset.state = fu.state;
  const r = fu.rating;
  const head = document.createElement("h2");
  head.append(text("span", L(`head.kind.${r.kind}`, { subject: r.subject })));
  head.append(" · ", text("span", L("head.rating", { level: r.level_names }), "fu-level"));
  const badge = text("span", L(`state.${fu.state}`), `badge fu-state ${fu.state}`);
  head.append(" ", badge);
  if (fu.overdue) head.append(" ", text("span", L("overdue"), "badge overdue"));
  el.append(head);
  const reasons = r.reasons.map((x) => x.zh).join("、");
  const reasonsEn = r.reasons.map((x) => x.en).join(", ");
  const facts = [
    L("department", { department: fu.department }),
    L("deadline", { date: fu.deadline }),
    L("assignee", { name: fu.assignee || L("nobody") }),
  ];
  if (r.reviewer) facts.push(L("reviewer", { name: r.reviewer }));
  if (r.reasons.length) facts.push(L("reasons", { list: { zh: reasons, en: reasonsEn } }));
  if (r.comment) facts.push(L("comment", { text: r.comment }));
  for (const f of facts) el.append(text("p", f, "fu-fact"));
  if (fu.response) {
    el.append(text("p", L("responded", { by: fu.responded_by, text: fu.response }), "fu-response"));
  }
  if (fu.state === "open") {
    const area = document.createElement("textarea");
    area.className = "fu-response-input";
    area.rows = 3;
    area.maxLength = 2000;
    const send = text("button", L("respond"), "btn primary fu-respond");
    send.type = "button";
    send.addEventListener("click", () => act(`/api/followups/${fu.id}/respond`, { response: area.value }));
    el.append(field("response", area), send);
  } else if (fu.state === "responded") {
    const verdict = document.createElement("select");
    verdict.className = "fu-verdict";
    for (const v of ["resolved", "unresolved"]) {
      const opt = text("option", L(`verdict.${v}`));
      opt.value = v;
      verdict.append(opt);
    }
    const note = document.createElement("input");
    note.className = "fu-note";
    note.maxLength = 2000;
    const close = text("button", L("close"), "btn primary fu-close");
    close.type = "button";
    close.addEventListener("click", () =>
      act(`/api/followups/${fu.id}/close`, { verdict: verdict.value, note: note.value }),
    );
    el.append(field("verdict", verdict), field("note", note), close);
  } else {
    const verdict = L(`verdict.${fu.verdict}`);
    el.append(text("p", L("closed", { verdict, note: fu.verdict_note || "" }), "fu-verdict-text"));
  }
  return el;
}

async function act(path, body) {
  try {
    await postJson(path, body);
    await load();
  } catch (err) {
    status("error", { message: err.message }, "error");
  }
}

async function load() {
  const state = $("#f-state").value;
  const resp = await fetch(`/api/followups${state ? `?state=${state}` : ""}`, {
    credentials: "same-origin",
  });
  if (!resp.ok) return status("error", { message: String(resp.status) }, "error");
  const { followups } = await resp.json();
  $("#fu-list").replaceChildren(...followups.map(card));
  if (followups.length) status("count", { n: followups.length });
  else status("none");
}

$("#f-state").addEventListener("change", load);
const logout = $("#logout");
if (logout) bindLogout(logout);
load();
