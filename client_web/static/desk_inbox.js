// desk_inbox.js — the inbox (待办) panel: the signed-in staff member's open
// cases, fewest remaining working days first, overdue / due-soon flagged and
// counted. Loaded from GET /api/register/inbox and reloaded when the server
// pushes `case.updated` (or the socket reconnects): no polling.

import * as i18n from "./i18n.js";
import { L, has } from "./desk_inbox_strings.js";

const URL = "/api/register/inbox";

function cell(names, className = "") {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (names && typeof names === "object") i18n.setNames(td, names);
  else td.textContent = names ?? "";
  return td;
}

function flagOf(c) {
  if (c.overdue) return "overdue";
  if (c.due_soon) return "due_soon";
  return "";
}

function remainingNames(c) {
  const n = c.remaining_working_days;
  if (n === null || n === undefined) return { zh: "–", en: "–" };
  return n < 0 ? L("remaining.over", { n: -n }) : L("remaining.days", { n });
}

/**
 * Show the inbox in `root` (the #inbox section). `client` is the page's
 * RwClient; `catalogue()` gives the loaded catalogue (or null, then codes show).
 * Returns {reload, render, state}: render again once the catalogue is loaded.
 */
export function startInbox(root, client, catalogue = () => null) {
  const body = root.querySelector("[data-inbox-rows]");
  const counts = root.querySelector("[data-inbox-counts]");
  const note = root.querySelector("[data-inbox-note]");
  const state = { cases: [], counts: null, loads: 0, updates: 0 };
  let loading = null;
  let again = false;

  function names(table, code) {
    const entry = catalogue()?.[table]?.[code];
    return entry ? entry.names : { zh: code || "", en: code || "" };
  }

  function renderCounts() {
    const parts = [];
    const c = state.counts || { open: 0, overdue: 0, due_soon: 0 };
    for (const key of ["open", "overdue", "due_soon"]) {
      const span = document.createElement("span");
      span.className = `inbox-count ${key}`;
      span.dataset.count = key;
      span.dataset.n = String(c[key]);
      i18n.setNames(span, L(`count.${key}`, { n: c[key] }));
      parts.push(span);
    }
    counts.replaceChildren(...parts);
  }

  function render() {
    renderCounts();
    const rows = state.cases.map((c) => {
      const tr = document.createElement("tr");
      tr.dataset.case = c.number;
      const flag = flagOf(c);
      if (flag) tr.dataset.flag = flag;
      const num = document.createElement("td");
      const link = document.createElement("a");
      link.href = `/case/${encodeURIComponent(c.number)}`;
      link.textContent = c.number;
      num.append(link);
      if (flag) {
        const badge = document.createElement("span");
        badge.className = `inbox-flag ${flag}`;
        i18n.setNames(badge, L(`flag.${flag}`));
        num.append(" ", badge);
      }
      const stateKey = `state.${c.state}`;
      tr.append(
        num,
        cell(names("items", c.item)),
        cell(names("places", c.place)),
        cell(has(stateKey) ? L(stateKey) : c.state),
        cell(c.applicant?.name),
        cell(remainingNames(c), "num"),
      );
      return tr;
    });
    body.replaceChildren(...rows);
    if (!state.cases.length) i18n.setNames(note, L("empty"));
    note.hidden = state.cases.length > 0;
    for (const table of root.querySelectorAll("table")) labelCells(table);
  }

  // Stacked tables on a narrow screen name each cell after its column (as staff.js does).
  function labelCells(table) {
    const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
    for (const tr of table.querySelectorAll("tbody tr")) {
      [...tr.cells].forEach((td, i) => (td.dataset.label = heads[i] || ""));
    }
  }

  async function load() {
    const resp = await fetch(URL, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!resp.ok) throw new Error(`inbox: HTTP ${resp.status}`);
    const data = await resp.json();
    state.cases = data.cases;
    state.counts = data.counts;
    state.loads += 1;
    render();
    root.dataset.loaded = String(state.loads);
  }

  /** Reload; calls while one is running coalesce into one more load after it. */
  function reload() {
    if (loading) {
      again = true;
      return loading;
    }
    loading = load()
      .catch((err) => {
        console.warn(err);
        i18n.setNames(note, L("failed"));
        note.hidden = false;
      })
      .finally(() => {
        loading = null;
        if (again) {
          again = false;
          reload();
        }
      });
    return loading;
  }

  for (const el of root.querySelectorAll("[data-inbox-text]")) {
    i18n.setNames(el, L(el.dataset.inboxText));
  }
  client.on("case.updated", () => {
    state.updates += 1;
    reload();
  });
  client.on("open", () => reload()); // pushes missed while offline
  i18n.onChange(render);
  render();
  reload();
  return { reload, render, state };
}
