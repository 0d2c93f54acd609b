// doc_viewer.js — one page of a case (a document-camera still or a scan) opened
// large: zoom, rotate, and, for a reviewer, "标记不清晰" with a reason.
// Reusable by any page (desk, case page); it brings its own stylesheet.
//
//   import { openViewer, markUnreadable } from "./doc_viewer.js";
//   const viewer = openViewer({
//     src: "/api/register/cases/QH-2026-000123/documents/7", // the image (same-origin cookie)
//     title: { zh: "经营者身份证明 第 1 页", en: "… page 1" },   // or a plain string
//     document: doc,            // optional: the documents API record (its state/reason is shown)
//     canMark: true,            // show 标记不清晰 (reviewers only)
//     onMark: async (reason) => markUnreadable(number, doc.id, reason), // throw to show an error
//     onClose: () => {},
//   });
//   viewer.close();             // also: the ✕ button, Esc, a click outside the image
//
// markUnreadable(number, docId, reason) POSTs to the documents API with the
// page's CSRF token and resolves to the updated document record (throws an
// Error carrying the API's message otherwise).
//
// DOM: div.dv-overlay[role=dialog] > .dv-box > header (.dv-title, .dv-close),
// .dv-tools (buttons [data-act=zoom-in|zoom-out|fit|rotate-left|rotate-right|mark]),
// .dv-stage > img.dv-image, form.dv-mark (textarea, confirm, cancel), .dv-status.
// Keys: + / − zoom, r / R rotate, Esc close.

import * as i18n from "./i18n.js";
import { L } from "./doc_viewer_strings.js";
import { csrf } from "./staff.js";

const ZOOMS = [0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3, 4];

function ensureStyles() {
  if (document.querySelector('link[data-doc-viewer]')) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/static/doc_viewer.css";
  link.dataset.docViewer = "1";
  document.head.append(link);
}

function button(act, key) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "btn small";
  b.dataset.act = act;
  i18n.setNames(b, L(key));
  return b;
}

function names(value) {
  return typeof value === "string" ? { zh: value, en: value } : value || { zh: "", en: "" };
}

export async function markUnreadable(number, docId, reason) {
  const url = `/api/register/cases/${encodeURIComponent(number)}/documents/${docId}/unreadable`;
  const resp = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify({ reason }),
  });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(body.message || `HTTP ${resp.status}`);
  return body;
}

export function openViewer(options) {
  ensureStyles();
  const state = { zoom: null, rotate: 0, closed: false }; // zoom null: fit to the stage
  const overlay = document.createElement("div");
  overlay.className = "dv-overlay";
  overlay.setAttribute("role", "dialog");
  overlay.setAttribute("aria-modal", "true");
  const box = document.createElement("div");
  box.className = "dv-box";
  const head = document.createElement("header");
  const title = document.createElement("span");
  title.className = "dv-title";
  i18n.setNames(title, names(options.title));
  const close = button("close", "close");
  close.classList.add("dv-close");
  head.append(title, close);
  const tools = document.createElement("div");
  tools.className = "dv-tools";
  tools.append(
    button("zoom-out", "zoom_out"),
    button("zoom-in", "zoom_in"),
    button("fit", "fit"),
    button("rotate-left", "rotate_left"),
    button("rotate-right", "rotate_right"),
  );
  const zoomLabel = document.createElement("span");
  zoomLabel.className = "dv-zoom";
  tools.append(zoomLabel);
  const mark = button("mark", "mark");
  mark.classList.add("danger");
  mark.hidden = !options.canMark;
  tools.append(mark);
  const stage = document.createElement("div");
  stage.className = "dv-stage";
  const img = document.createElement("img");
  img.className = "dv-image";
  img.src = options.src;
  stage.append(img);
  const form = document.createElement("form");
  form.className = "dv-mark";
  form.hidden = true;
  // The label's words sit in their own span: a language switch rewrites the text
  // of every named element, and would otherwise drop the textarea with the label's text.
  const label = document.createElement("label");
  const labelText = document.createElement("span");
  i18n.setNames(labelText, L("mark.reason"));
  const reason = document.createElement("textarea");
  reason.rows = 2;
  reason.maxLength = 2000;
  label.append(labelText, reason);
  const confirm = button("mark-confirm", "mark.confirm");
  confirm.type = "submit";
  confirm.classList.add("danger");
  const cancel = button("mark-cancel", "mark.cancel");
  form.append(label, confirm, cancel);
  const status = document.createElement("p");
  status.className = "dv-status";
  status.setAttribute("role", "status");
  box.append(head, tools, stage, form, status);
  overlay.append(box);
  document.body.append(overlay);

  // What setNames cannot carry (attributes) follows the language here.
  function translateAttributes() {
    reason.placeholder = i18n.pick(L("mark.placeholder"));
    img.alt = i18n.pick(names(options.title));
  }
  translateAttributes();
  const stopTranslating = i18n.onChange(translateAttributes);

  function showDocument(doc) {
    if (doc?.state === "unreadable") {
      i18n.setNames(status, L("unreadable", { reason: doc.reason || "" }));
      status.className = "dv-status warn";
      mark.hidden = true;
    }
  }
  showDocument(options.document);

  function render() {
    const fit = state.zoom === null;
    const sideways = state.rotate % 180 !== 0;
    let scale = state.zoom ?? 1;
    if (fit && img.naturalWidth) {
      const w = sideways ? img.naturalHeight : img.naturalWidth;
      const h = sideways ? img.naturalWidth : img.naturalHeight;
      scale = Math.min(stage.clientWidth / w, stage.clientHeight / h, 1) || 1;
    }
    img.style.width = `${Math.round(img.naturalWidth * scale)}px`;
    img.style.height = `${Math.round(img.naturalHeight * scale)}px`;
    img.style.transform = `rotate(${state.rotate}deg)`;
    // A rotated image needs its box turned too, so that scrolling reaches every part.
    const pad = sideways ? Math.abs(img.naturalWidth - img.naturalHeight) * scale / 2 : 0;
    img.style.margin = sideways ? `${pad}px ${-pad}px` : "0";
    overlay.dataset.zoom = String(Math.round(scale * 100));
    overlay.dataset.rotate = String(((state.rotate % 360) + 360) % 360);
    i18n.setNames(zoomLabel, L("zoom", { n: Math.round(scale * 100) }));
  }
  img.addEventListener("load", render);

  function zoomBy(step) {
    const current = state.zoom ?? Number(overlay.dataset.zoom || 100) / 100;
    const i = ZOOMS.findIndex((z) => z >= current - 1e-6);
    const at = i < 0 ? ZOOMS.length - 1 : i;
    state.zoom = ZOOMS[Math.min(ZOOMS.length - 1, Math.max(0, at + step))];
    render();
  }

  function onKey(ev) {
    if (ev.target === reason) {
      if (ev.key === "Escape") form.hidden = true;
      return;
    }
    if (ev.key === "Escape") viewer.close();
    else if (ev.key === "+" || ev.key === "=") zoomBy(1);
    else if (ev.key === "-") zoomBy(-1);
    else if (ev.key === "r") rotateBy(90);
    else if (ev.key === "R") rotateBy(-90);
  }

  function rotateBy(deg) {
    state.rotate += deg;
    render();
  }

  tools.addEventListener("click", (ev) => {
    const act = ev.target.closest("button")?.dataset.act;
    if (act === "zoom-in") zoomBy(1);
    else if (act === "zoom-out") zoomBy(-1);
    else if (act === "fit") {
      state.zoom = null;
      render();
    } else if (act === "rotate-left") rotateBy(-90);
    else if (act === "rotate-right") rotateBy(90);
    else if (act === "mark") {
      form.hidden = false;
      reason.focus();
    }
  });
  cancel.addEventListener("click", () => {
    form.hidden = true;
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = reason.value.trim();
    if (!text) {
      i18n.setNames(status, L("mark.required"));
      status.className = "dv-status error";
      return;
    }
    confirm.disabled = true;
    try {
      const doc = await options.onMark?.(text);
      form.hidden = true;
      showDocument(doc || { state: "unreadable", reason: text });
    } catch (err) {
      i18n.setNames(status, L("mark.failed", { message: err?.message || String(err) }));
      status.className = "dv-status error";
    } finally {
      confirm.disabled = false;
    }
  });
  close.addEventListener("click", () => viewer.close());
  overlay.addEventListener("click", (ev) => {
    if (ev.target === overlay) viewer.close();
  });
  document.addEventListener("keydown", onKey);
  const onResize = () => render();
  window.addEventListener("resize", onResize);

  const viewer = {
    element: overlay,
    close() {
      if (state.closed) return;
      state.closed = true;
      document.removeEventListener("keydown", onKey);
      window.removeEventListener("resize", onResize);
      stopTranslating();
      overlay.remove();
      options.onClose?.();
    },
  };
  close.focus();
  return viewer;
}
