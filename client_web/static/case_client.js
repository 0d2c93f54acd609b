// case_client.js — the case register's HTTP API as the pages use it.
// Every call resolves to {ok, status, body}; a refusal's body is the API's
// {error, field, code, message}; a network failure is status 0.

import { csrf } from "./staff.js";

export const BASE = "/api/register/cases";

const enc = encodeURIComponent;

async function call(path, { method = "GET", json, body, type } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf();
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (type) {
    headers["Content-Type"] = type;
  }
  let resp;
  try {
    resp = await fetch(path, { method, headers, body, credentials: "same-origin" });
  } catch {
    return { ok: false, status: 0, body: null };
  }
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  return { ok: resp.ok, status: resp.status, body: data };
}

export const caseUrl = (number) => `${BASE}/${enc(number)}`;
export const pageUrl = (number, id) => `${caseUrl(number)}/documents/${id}`;
export const approvalUrl = (number) => `${caseUrl(number)}/approval`;
export const receiptUrl = (number) => `/case/${enc(number)}/receipt`;
export const casePage = (number) => `/case/${enc(number)}`;

export const getCase = (number) => call(caseUrl(number));
export const listDocuments = (number) => call(`${caseUrl(number)}/documents`);
export const idNumber = (number) => call(`${caseUrl(number)}/id-number`);

export function listCases(states, limit = 100, { offset = 0, order = "deadline" } = {}) {
  return call(`${BASE}?state=${enc(states.join(","))}&limit=${limit}&offset=${offset}&order=${order}`);
}

export const createCase = (fields) => call(BASE, { method: "POST", json: fields });

export function transition(number, to, reason = "") {
  return call(`${caseUrl(number)}/transition`, { method: "POST", json: { to, reason } });
}

/** Store one page (a Blob or File: camera still or scan) of a checklist material. */
export function addPage(number, material, blob, source) {
  const q = `material=${enc(material)}&source=${enc(source)}`;
  return call(`${caseUrl(number)}/documents?${q}`, {
    method: "POST",
    body: blob,
    type: blob.type || "application/octet-stream",
  });
}

export function markUnreadable(number, id, reason) {
  return call(`${pageUrl(number, id)}/unreadable`, { method: "POST", json: { reason } });
}

/** Approve with a generated approval document (the server renders the PDF). */
export function approveGenerated(number, reasons) {
  return call(approvalUrl(number), { method: "POST", json: { reasons } });
}

/** Approve with an uploaded approval PDF. */
export function approveUpload(number, file, reasons) {
  return call(`${approvalUrl(number)}?reasons=${enc(reasons)}`, {
    method: "POST",
    body: file,
    type: "application/pdf",
  });
}
