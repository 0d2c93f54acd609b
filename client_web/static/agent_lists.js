// agent_lists.js — the counter page's lists: "我的办件" (the place's open cases,
// a request for more materials flagged with its reason), "已办结" (approved,
// rejected, withdrawn: the latest first, a page at a time) and "待打印批件"
// (approved cases with their approval document to open, print, and the receipt).

import { setNames } from "./i18n.js";
import { approvalUrl, casePage, getCase, listCases, receiptUrl } from "./case_client.js";
import { names, refusal } from "./case_strings.js";
import { el, remainingNames, requestReason, stateNames, when } from "./case_view.js";

const OPEN = ["received", "in_review", "more_materials_requested"];
const FINISHED = ["approved", "rejected", "withdrawn"];
export const DONE_PAGE = 20;
let doneOffset = 0;

function itemNames(code) {
  const opt = document.querySelector(`#nc-item option[value="${CSS.escape(code)}"]`);
  return opt ? { zh: opt.dataset.zh, en: opt.dataset.en } : { zh: code, en: code };
}

function status(node, table, res, count) {
  if (!res.ok) {
    node.hidden = false;
    node.className = "message error";
    setNames(node, refusal(res.status, res.body));
    table.hidden = true;
    return false;
  }
  node.className = "muted";
  node.hidden = count > 0;
  setNames(node, names("list.empty"));
  table.hidden = count === 0;
  return true;
}

function caseLink(number) {
  return el("a", { href: casePage(number), class: "case-link" }, number);
}

/** The place's open cases; those asked for more materials first, with the reason. */
export async function showMine() {
  const res = await listCases(OPEN);
  const cases = res.ok ? res.body.cases : [];
  if (!status(document.querySelector("#my-status"), document.querySelector("#my-table"), res, cases.length)) {
    return;
  }
  const asked = cases.filter((c) => c.state === "more_materials_requested");
  // The list rows carry no history: the reason comes from each such case.
  const details = await Promise.all(asked.map((c) => getCase(c.number)));
  const reasons = new Map(details.filter((d) => d.ok).map((d) => [d.body.number, requestReason(d.body)]));
  const ordered = [...asked, ...cases.filter((c) => c.state !== "more_materials_requested")];
  document.querySelector("#my-rows").replaceChildren(
    ...ordered.map((c) => {
      const state = el("td", {}, el("span", { names: stateNames(c.state) }));
      if (c.state === "more_materials_requested") {
        state.replaceChildren(el("span", { class: "flag", names: names("state.more_materials_requested") }));
        const why = reasons.get(c.number);
        if (why) state.append(el("span", { class: "asked" }, why));
      }
      return el(
        "tr",
        { dataset: { case: c.number, state: c.state } },
        el("td", {}, caseLink(c.number)),
        el("td", {}, c.applicant.name),
        el("td", { names: itemNames(c.item) }),
        state,
        el("td", { class: c.overdue ? "overdue" : "" }, `${c.deadline} `, el("span", { names: remainingNames(c) })),
      );
    }),
  );
}

/** The place's finished cases, the latest decision or withdrawal first, one page. */
export async function showFinished() {
  const res = await listCases(FINISHED, DONE_PAGE, { offset: doneOffset, order: "recent" });
  const cases = res.ok ? res.body.cases : [];
  const total = res.ok ? FINISHED.reduce((n, s) => n + (res.body.counts[s] || 0), 0) : 0;
  if (res.ok && !cases.length && doneOffset > 0) {
    doneOffset = Math.max(0, doneOffset - DONE_PAGE); // the page emptied: show the one before
    return showFinished();
  }
  const pager = document.querySelector("#done-pager");
  pager.hidden = total <= DONE_PAGE;
  if (!status(document.querySelector("#done-status"), document.querySelector("#done-table"), res, cases.length)) {
    pager.hidden = true;
    return;
  }
  document.querySelector("#done-prev").disabled = doneOffset === 0;
  document.querySelector("#done-next").disabled = doneOffset + cases.length >= total;
  const range = { from: doneOffset + 1, to: doneOffset + cases.length, total };
  setNames(document.querySelector("#done-range"), names("list.range", range));
  document.querySelector("#done-rows").replaceChildren(
    ...cases.map((c) =>
      el(
        "tr",
        { dataset: { case: c.number, state: c.state } },
        el("td", {}, caseLink(c.number)),
        el("td", {}, c.applicant.name),
        el("td", { names: itemNames(c.item) }),
        el("td", {}, el("span", { class: "state-badge", dataset: { state: c.state }, names: stateNames(c.state) })),
        el("td", {}, when(c.decided_at || c.updated_at)),
      ),
    ),
  );
}

function page(delta) {
  doneOffset = Math.max(0, doneOffset + delta * DONE_PAGE);
  return showFinished();
}

document.querySelector("#done-prev")?.addEventListener("click", () => page(-1));
document.querySelector("#done-next")?.addEventListener("click", () => page(1));

/** Approved cases whose approval document is there to print. */
export async function showToPrint() {
  const res = await listCases(["approved"], 50);
  const approved = res.ok ? res.body.cases : [];
  const details = await Promise.all(approved.map((c) => getCase(c.number)));
  const ready = details.filter((d) => d.ok && d.body.approval).map((d) => d.body);
  ready.sort((a, b) => String(b.decided_at).localeCompare(String(a.decided_at)));
  if (!status(document.querySelector("#print-status"), document.querySelector("#print-table"), res, ready.length)) {
    return;
  }
  document.querySelector("#print-rows").replaceChildren(
    ...ready.map((c) =>
      el(
        "tr",
        { dataset: { case: c.number } },
        el("td", {}, caseLink(c.number)),
        el("td", {}, c.applicant.name),
        el("td", { names: itemNames(c.item) }),
        el("td", {}, when(c.decided_at)),
        el(
          "td",
          { class: "actions" },
          el("a", { class: "btn primary open-approval", href: approvalUrl(c.number), target: "_blank", rel: "noopener", names: names("print.approval") }),
          el("a", { class: "btn open-receipt", href: receiptUrl(c.number), target: "_blank", rel: "noopener", names: names("print.receipt") }),
        ),
      ),
    ),
  );
}

let loading = null;
let again = false;

/** Read both lists; a call while they are read makes one more read after it. */
export function refreshLists() {
  if (loading) {
    again = true;
    return loading;
  }
  loading = Promise.all([showMine(), showFinished(), showToPrint()]).finally(() => {
    loading = null;
    if (again) {
      again = false;
      refreshLists();
    }
  });
  return loading;
}
