// case_deadlines.js — the supervisors' deadline counts (all open cases, overdue,
// due within 1 working day) on the case archive page, from GET /api/register/inbox.

import * as i18n from "./i18n.js";
import { countSpans, fetchInbox } from "./desk_inbox.js";
import { L } from "./desk_inbox_strings.js";

const box = document.querySelector("#case-deadlines");
let counts = null;

function render() {
  i18n.setNames(box.querySelector("[data-inbox-text]"), L("title"));
  box.querySelector("[data-inbox-counts]").replaceChildren(...countSpans(counts));
}

fetchInbox()
  .then((data) => {
    counts = data.counts;
    render();
    box.hidden = false;
    box.dataset.loaded = "1";
  })
  .catch((err) => console.warn(err));
i18n.onChange(() => counts && render());
