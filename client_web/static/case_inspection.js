// case_inspection.js — 云踏勘 on the case page: the evidence stills (stamped copies,
// with their GPS fix and point) and the inspection checklist with its ticks.
// Read-only: stills are taken and points ticked on the desk during the call.

import { setNames } from "./i18n.js";

const BASE = "/api/register/cases";

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

export async function showInspection(panel, number) {
  const resp = await fetch(`${BASE}/${encodeURIComponent(number)}/evidence`, { credentials: "same-origin" });
  if (!resp.ok) return;
  const listing = await resp.json();
  if (!listing.evidence.length && !listing.points.length) return;
  const stills = panel.querySelector("#inspection-evidence");
  for (const record of listing.evidence) {
    const li = el("li", { "data-n": String(record.n) });
    const img = el("img", { class: "inspect-thumb", alt: `#${record.n}` });
    const gps = record.gps
      ? `${record.gps.lat.toFixed(5)}, ${record.gps.lon.toFixed(5)} ±${Math.round(record.gps.accuracy)} m`
      : "—";
    li.append(img, el("span", { class: "inspect-caption" }, `#${record.n} ${record.point || ""} ${gps}`));
    stills.append(li);
    fetch(`${BASE}/${encodeURIComponent(number)}/evidence/${record.n}`, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.blob() : null))
      .then((blob) => {
        if (blob) img.src = URL.createObjectURL(blob);
      });
  }
  const points = panel.querySelector("#inspection-points");
  for (const { point, check } of listing.points) {
    const li = el("li", { "data-point": point, "data-state": check ? "checked" : "open" });
    li.append(el("span", {}, point), el("span", { class: "muted" }, " "));
    const mark = li.lastChild;
    if (check) setNames(mark, { zh: `✓ 照片 ${check.evidence}`, en: `✓ picture ${check.evidence}` });
    else setNames(mark, { zh: "未核查", en: "not checked" });
    points.append(li);
  }
  panel.hidden = false;
}
