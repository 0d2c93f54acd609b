// village_api.js — the points and village APIs as the pages use them: every call
// resolves to {ok, status, body}; a network failure is status 0.

import { csrf } from "./staff.js";

const enc = encodeURIComponent;

export async function call(path, { method = "GET", json } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf();
  if (json !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      credentials: "same-origin",
    });
  } catch {
    return { ok: false, status: 0, body: null };
  }
  let body = null;
  try {
    body = await resp.json();
  } catch {
    body = null;
  }
  return { ok: resp.ok, status: resp.status, body };
}

export const ledger = (point, month) =>
  call(`/api/points/ledger?point=${enc(point)}${month ? `&month=${enc(month)}` : ""}`);
export const months = (point) => call(`/api/points/months?point=${enc(point)}`);
export const points = () => call("/api/points/points");
export const agents = (point) => call(`/api/points/agents?point=${enc(point)}`);
export const grant = (fields) => call("/api/points/grants", { method: "POST", json: fields });
export const correct = (id, points, reason) =>
  call(`/api/points/entries/${id}/correction`, { method: "POST", json: { points, reason } });
export const confirmMonth = (point, month) =>
  call(`/api/points/months/${enc(point)}/${enc(month)}/confirm`, { method: "POST", json: {} });
export const statement = (point, month) =>
  call(`/api/points/months/${enc(point)}/${enc(month)}/statement`);
export const exportUrl = (point, month, format) =>
  `/api/points/months/${enc(point)}/${enc(month)}/export?format=${format}`;
export const fileRecord = (fields) => call("/api/village/records", { method: "POST", json: fields });
export const listRecords = () => call("/api/village/records");
export const linkSession = (number, session) =>
  call(`/api/village/cases/${enc(number)}/session`, { method: "POST", json: { session } });
