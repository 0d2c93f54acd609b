// agent_page.js — the counter (/agent): receive a case (新建办件), capture its
// materials with the document camera or scanned uploads, submit; then the lists
// of agent_lists.js. Lists are read on load, after each action here and on
// each case.updated push (case_live.js).

import { setNames } from "./i18n.js";
import { bindLogout } from "./staff.js";
import { casePage, createCase, getCase, listDocuments, receiptUrl } from "./case_client.js";
import { names, refusal } from "./case_strings.js";
import { renderChecklist } from "./case_view.js";
import { capturePanel } from "./capture_panel.js";
import { refreshLists } from "./agent_lists.js";
import { onCaseUpdates } from "./case_live.js";

bindLogout(document.querySelector("#logout"));

const message = document.querySelector("#agent-message");
const form = document.querySelector("#new-case-form");
const step = document.querySelector("#capture-step");
const missingNote = document.querySelector("#cap-missing");
let number = null;
let confirmMissing = false;

function say(text, kind = "") {
  message.hidden = !text;
  message.className = `message ${kind}`.trim();
  if (text) setNames(message, text);
}

// The modes the chosen item allows at a counter.
function syncModes() {
  const item = form.querySelector("#nc-item");
  const modes = JSON.parse(item.selectedOptions[0]?.dataset.modes || "[]");
  const mode = form.querySelector("#nc-mode");
  for (const opt of mode.options) opt.hidden = opt.disabled = !modes.includes(opt.value);
  if (mode.selectedOptions[0]?.disabled) mode.value = modes[0] || "";
}

const materialActions = capturePanel(step, {
  getNumber: () => number,
  onStored: () => showCase(),
  say,
});

async function showCase() {
  const [res, docs] = await Promise.all([getCase(number), listDocuments(number)]);
  if (!res.ok || !docs.ok) {
    say(refusal(res.ok ? docs.status : res.status, res.ok ? docs.body : res.body), "error");
    return;
  }
  renderChecklist(step.querySelector("#checklist"), res.body, docs.body.documents, { materialActions });
  const missing = res.body.checklist.filter((m) => !m.captured).map((m) => m.code);
  missingNote.hidden = !missing.length;
  if (missing.length) setNames(missingNote, names("submit.missing", { missing: missing.join("、") }));
  confirmMissing = false;
  return missing;
}

if (form) {
  form.querySelector("#nc-item").addEventListener("change", syncModes);
  syncModes();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const submit = form.querySelector("#nc-submit");
    submit.disabled = true;
    try {
      const res = await createCase({
        item: form.querySelector("#nc-item").value,
        mode: form.querySelector("#nc-mode").value,
        applicant_name: form.querySelector("#nc-name").value,
        applicant_id: form.querySelector("#nc-id").value,
        applicant_disabled: form.querySelector("#nc-disabled").checked,
      });
      if (!res.ok) {
        say(refusal(res.status, res.body), "error");
        return;
      }
      number = res.body.number;
      const link = step.querySelector("#cap-number");
      link.textContent = number;
      link.href = casePage(number);
      step.querySelector("#cap-receipt").href = receiptUrl(number);
      form.reset();
      syncModes();
      step.hidden = false;
      say(names("ok.created", { number }), "ok");
      await showCase();
      step.scrollIntoView({ block: "start" });
      refreshLists();
    } finally {
      submit.disabled = false;
    }
  });
}

step.querySelector("#nc-done").addEventListener("click", async () => {
  const asked = confirmMissing;
  const missing = await showCase();
  if (!missing) return;
  if (missing.length && !asked) {
    // Asked once: a second press submits it as it is (the reviewer may ask for more).
    setNames(missingNote, names("submit.confirm", { missing: missing.join("、") }));
    confirmMissing = true;
    return;
  }
  say(names("ok.submitted", { number }), "ok");
  step.hidden = true;
  number = null;
  await refreshLists();
});

refreshLists();
// A reviewer's request or decision shows at once: the lists are read again.
onCaseUpdates((msg) => {
  refreshLists();
  if (msg && msg.number === number) showCase();
});
