// case_view.js — showing a case: its facts, the material checklist with each
// material's pages in order (thumbnails that open large), its history.
// Texts are set as {zh, en} names (setNames), so they follow a language switch.

import { setNames } from "./i18n.js";
import { names } from "./case_strings.js";
import { pageUrl } from "./case_client.js";

/** A new element: el("td", {class: "x"}, child, "text", ...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "names") setNames(node, v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const same = (text) => ({ zh: text, en: text });
const joined = (a, b) => ({ zh: `${a.zh} · ${b.zh}`, en: `${a.en} · ${b.en}` });

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export const stateNames = (state) => names(`state.${state}`);

export function remainingNames(c) {
  const n = c.remaining_working_days;
  if (n === null || n === undefined) return names("days.closed");
  if (n < 0) return names("days.over", { n: -n });
  return n === 0 ? names("days.today") : names("days.left", { n });
}

export function actorNames(ref) {
  const [role, who] = String(ref || "").split(":", 2);
  const r = names(`role.${role}`);
  return who ? { zh: `${r.zh} ${who}`, en: `${who} (${r.en})` } : same(ref || "");
}

/** The reason of the latest request for more materials, while one stands. */
export function requestReason(c) {
  if (c.state !== "more_materials_requested") return "";
  const asked = c.history.filter((e) => e.to === "more_materials_requested");
  return asked.length ? asked[asked.length - 1].reason : "";
}

/** Fill every [data-fact] under root from the case. */
export function fillFacts(root, c, labels = {}) {
  const facts = {
    number: same(c.number),
    applicant: same(c.applicant.name),
    id_number: same(c.applicant.id_number),
    item: labels.item || same(c.item),
    department: same(c.department),
    place: labels.place || same(c.place),
    mode: names(`mode.${c.mode}`),
    state: stateNames(c.state),
    received: joined(same(when(c.received_at)), actorNames(c.received_by)),
    deadline: same(c.deadline),
    remaining: remainingNames(c),
    decision: same(c.decision?.reasons || ""),
  };
  for (const node of root.querySelectorAll("[data-fact]")) {
    const value = facts[node.dataset.fact];
    if (value) setNames(node, value);
  }
  const state = root.querySelector("[data-fact=state]");
  if (state) state.dataset.state = c.state;
  const left = root.querySelector("[data-fact=remaining]");
  if (left) left.classList.toggle("overdue", Boolean(c.overdue));
}

function thumb(number, doc, openPage) {
  const url = pageUrl(number, doc.id);
  const label = doc.media_type === "application/pdf" ? "page.pdf" : "page.n";
  const caption = el("span", { names: names(label, { n: doc.page }) });
  const link = el("a", { href: url, target: "_blank", rel: "noopener", class: "page-link" });
  if (doc.media_type.startsWith("image/")) {
    link.append(el("img", { src: url, alt: "", loading: "lazy", class: "page-thumb" }));
    if (openPage) {
      link.addEventListener("click", (ev) => {
        ev.preventDefault();
        openPage(doc);
      });
    }
  } else {
    link.append(el("span", { class: "page-thumb pdf" }, "PDF"));
  }
  link.append(caption);
  return link;
}

function materialStatus(entry, docs) {
  if (entry.captured) return { key: "mat.captured", cls: "ok", vars: { n: entry.pages } };
  if (docs.some((d) => d.state === "unreadable")) return { key: "mat.unreadable", cls: "bad" };
  return { key: "mat.missing", cls: "bad" };
}

/**
 * The checklist as a list of materials, each with its pages in order.
 * materialActions(code) may give extra elements (buttons); openPage(doc) opens an
 * image page in a viewer instead of a new tab.
 */
export function renderChecklist(list, c, docs, { materialActions, openPage } = {}) {
  list.replaceChildren();
  for (const entry of c.checklist) {
    const own = docs.filter((d) => d.material === entry.code).sort((a, b) => a.page - b.page);
    const status = materialStatus(entry, own);
    const pages = el("ol", { class: "pages" });
    for (const doc of own) {
      const item = el(
        "li",
        { class: `page ${doc.state}`, dataset: { doc: doc.id, page: doc.page } },
        thumb(c.number, doc, openPage),
        el("small", { names: names(`page.source.${doc.source}`) }),
      );
      if (doc.state === "unreadable") {
        item.append(el("small", { class: "why", names: names("page.unreadable", { reason: doc.reason }) }));
      }
      pages.append(item);
    }
    if (!own.length) pages.append(el("li", { class: "muted", names: names("pages.none") }));
    const head = el(
      "div",
      { class: "material-head" },
      el("strong", {}, entry.code),
      el("span", { class: `mat-state ${status.cls}`, names: names(status.key, status.vars) }),
    );
    const row = el("li", { class: "material", dataset: { material: entry.code } }, head, pages);
    const actions = materialActions?.(entry.code) || [];
    if (actions.length) row.append(el("div", { class: "material-actions" }, ...actions));
    list.append(row);
  }
}

function eventNames(e) {
  const d = e.data || {};
  if (e.type === "state") {
    const from = e.from ? stateNames(e.from) : same("");
    const to = stateNames(e.to);
    return { zh: `${from.zh} → ${to.zh}`, en: `${from.en} → ${to.en}` };
  }
  const key = `ev.${e.type}`;
  const to = d.to ? same(d.to) : "";
  const n = d.n ?? d.evidence ?? "";
  const point = d.point ?? "";
  return names(key, { material: d.material ?? "", page: d.page ?? "", session: d.session ?? "", to, n, point });
}

/** Every event of the case: when, who, what, the reason. */
export function renderHistory(tbody, c) {
  tbody.replaceChildren(
    ...c.history.map((e) =>
      el(
        "tr",
        { dataset: { type: e.type, to: e.to || "" } },
        el("td", {}, when(e.at)),
        el("td", { names: actorNames(e.actor) }),
        el("td", { names: eventNames(e) }),
        el("td", { class: "reason" }, e.reason || ""),
      ),
    ),
  );
}
