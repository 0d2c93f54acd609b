// case_decision.js — the reviewer's part of the case page: start the review,
// ask for more materials, reject, approve with a generated or uploaded approval
// document. Refusals come back in plain words. (Pages are marked unreadable in
// the page viewer, doc_viewer.js, opened from the checklist.)

import { setNames } from "./i18n.js";
import { approveGenerated, approveUpload, transition } from "./case_client.js";
import { names, refusal } from "./case_strings.js";

// Per state: the buttons shown (id -> label key) and what the reason box is for.
const LAYOUT = {
  received: { buttons: { "do-start": "do.start", "do-reject": "do.refuse" }, reason: "reason.reject" },
  in_review: {
    buttons: { "do-request": "do.request", "do-approve": "do.approve", "do-reject": "do.reject" },
    reason: "reason.request",
  },
  more_materials_requested: {
    buttons: { "do-start": "do.resume", "do-reject": "do.reject" },
    reason: "reason.reject",
  },
};

export function decisionPanel(root, { number, say, reload }) {
  const panel = root.querySelector("#decision-panel");
  const reason = root.querySelector("#decision-reason");
  const reasonLabel = root.querySelector("#reason-label");
  const source = root.querySelector("#approve-source");
  const file = root.querySelector("#approval-file");
  const buttons = [...panel.querySelectorAll("[data-action]")];
  let state = null;

  const chosenSource = () => panel.querySelector('input[name="approval-source"]:checked')?.value;
  for (const radio of panel.querySelectorAll('input[name="approval-source"]')) {
    radio.addEventListener("change", () => {
      file.hidden = chosenSource() !== "upload";
    });
  }

  function show(c) {
    state = c.state;
    const layout = LAYOUT[c.state];
    panel.hidden = !layout;
    if (!layout) return;
    for (const b of buttons) {
      const key = layout.buttons[b.id];
      b.hidden = !key;
      b.disabled = false;
      if (key) setNames(b, names(key));
    }
    setNames(reasonLabel, names(layout.reason));
    source.hidden = c.state !== "in_review";
  }

  async function act(action) {
    const text = reason.value.trim();
    let res;
    if (action === "approved") {
      if (chosenSource() === "upload") {
        const pdf = file.files?.[0];
        if (!pdf) {
          say(names("approve.no_file"), "error");
          return;
        }
        res = await approveUpload(number, pdf, text);
      } else {
        res = await approveGenerated(number, text);
      }
    } else {
      // Between the asking and the deciding the reason box says what it is for.
      res = await transition(number, action, action === "in_review" ? "" : text);
    }
    if (!res.ok) {
      // An approval document is a PDF (documents may be images too).
      const wrongType = action === "approved" && res.body?.code === "wrong_type";
      say(wrongType ? names("approve.wrong_type") : refusal(res.status, res.body), "error");
      if (res.status === 409) await reload(false);
      return;
    }
    reason.value = "";
    say(names(`ok.${action}`), "ok");
    await reload(false);
  }

  for (const b of buttons) {
    b.addEventListener("click", async () => {
      if (!state) return;
      for (const x of buttons) x.disabled = true;
      try {
        await act(b.dataset.action);
      } finally {
        for (const x of buttons) x.disabled = false;
      }
    });
  }

  return { show };
}
