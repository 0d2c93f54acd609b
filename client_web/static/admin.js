// admin.js — accounts and kiosks: add, edit, disable/enable, reset a password,
// revoke a kiosk (every write sends X-CSRF-Token). API errors come as
// {error, field, code} and are shown in words from admin_strings.js.

import * as i18n from "./i18n.js";
import { bindLogout, csrf } from "./staff.js";
import { loadCatalogue } from "./rwclient.js";
import { errorNames, names } from "./admin_strings.js";

const $ = (sel) => document.querySelector(sel);
const form = $("#add-user");
const editForm = $("#edit-user");
const resetForm = $("#reset-password");
const me = $("#who")?.dataset.me || "";
let catalogue = null;
let users = [];
let editing = null;

function say(el, key, vars, tone) {
  i18n.setNames(el, names(key, vars));
  el.className = `message ${tone}`;
  el.hidden = false;
}

function sayError(el, body, status) {
  i18n.setNames(el, names("failed", { reason: errorNames(body, status) }));
  el.className = "message error";
  el.hidden = false;
}

/** Send JSON; returns {ok, status, body} (status 0 when the network failed). */
async function call(method, url, body) {
  try {
    const resp = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await resp.json().catch(() => ({}));
    return { ok: resp.ok, status: resp.status, body: data };
  } catch {
    return { ok: false, status: 0, body: {} };
  }
}

function cell(row, text) {
  const td = document.createElement("td");
  if (text !== undefined) td.textContent = text;
  row.append(td);
  return td;
}

function button(key, onClick, attrs = {}) {
  const btn = document.createElement("button");
  btn.type = "button";
  btn.className = "btn small";
  for (const [k, v] of Object.entries(attrs)) btn.dataset[k] = v;
  i18n.setNames(btn, names(key));
  btn.addEventListener("click", onClick);
  return btn;
}

function placeCell(row, code) {
  const td = cell(row);
  const known = code && catalogue?.places[code];
  if (known) i18n.setNames(td, known.names);
  else td.textContent = code || "";
}

function renderUsers() {
  const rows = users.map((u) => {
    const tr = document.createElement("tr");
    tr.dataset.username = u.username;
    cell(tr, u.username);
    cell(tr, u.display_name);
    i18n.setText(cell(tr), `role.${u.role}`);
    const items = cell(tr);
    for (const code of u.items) {
      const tag = document.createElement("span");
      tag.className = "tag";
      const item = catalogue?.items[code];
      if (item) i18n.setNames(tag, item.names);
      else tag.textContent = code;
      items.append(tag);
    }
    placeCell(tr, u.place);
    const state = u.disabled ? "status.disabled" : u.locked_s ? "status.locked" : "status.enabled";
    i18n.setNames(cell(tr), names(state));
    const actions = cell(tr);
    actions.append(button("action.edit", () => openEditor(u), { action: "edit" }));
    if (u.locked_s) {
      actions.append(button("action.unlock", () => userAction(u, "unlock", "ok.unlocked"), { action: "unlock" }));
    }
    if (u.totp && u.username !== me) {
      const reset = () => userAction(u, "totp/reset", "ok.totp_reset");
      actions.append(button("action.totp_reset", reset, { action: "totp-reset" }));
    }
    if (u.username !== me) {
      // The server refuses disabling oneself; do not offer it.
      const toggle = () => setDisabled(u, !u.disabled);
      const action = u.disabled ? "enable" : "disable";
      actions.append(button(`action.${action}`, toggle, { action }));
    }
    return tr;
  });
  $("#users-rows").replaceChildren(...rows);
}

function renderKiosks(kiosks) {
  const rows = kiosks.map((k) => {
    const tr = document.createElement("tr");
    tr.dataset.kiosk = k.id;
    const id = document.createElement("code");
    id.textContent = k.id;
    cell(tr).append(id);
    cell(tr, k.name);
    placeCell(tr, k.place);
    const state = k.revoked ? "kiosk.revoked" : k.expired ? "kiosk.expired" : "kiosk.active";
    i18n.setNames(cell(tr), names(state));
    const actions = cell(tr);
    if (!k.revoked) {
      // Revoking cannot be undone: the first click asks, the second revokes.
      const btn = button("action.revoke", () => {
        if (btn.dataset.armed) revoke(k);
        else {
          btn.dataset.armed = "1";
          i18n.setNames(btn, names("action.revoke.confirm"));
        }
      }, { action: "revoke" });
      actions.append(btn);
    }
    return tr;
  });
  $("#kiosks-rows").replaceChildren(...rows);
}

async function refresh() {
  const resp = await fetch("/api/admin/accounts", { credentials: "same-origin" });
  if (!resp.ok) return;
  const data = await resp.json();
  users = data.users;
  renderUsers();
  renderKiosks(data.kiosks);
}

async function setDisabled(user, disabled) {
  const out = $("#users-result");
  const res = await call("PATCH", `/api/admin/users/${encodeURIComponent(user.username)}`, {
    disabled,
  });
  if (res.ok) say(out, disabled ? "ok.disabled" : "ok.enabled", { username: user.username }, "ok");
  else sayError(out, res.body, res.status);
  await refresh();
}

async function userAction(user, path, okKey) {
  const out = $("#users-result");
  const res = await call("POST", `/api/admin/users/${encodeURIComponent(user.username)}/${path}`);
  if (res.ok) say(out, okKey, { username: user.username }, "ok");
  else sayError(out, res.body, res.status);
  await refresh();
}

async function revoke(kiosk) {
  const out = $("#kiosks-result");
  const res = await call("POST", `/api/admin/kiosks/${encodeURIComponent(kiosk.id)}/revoke`);
  if (res.ok) say(out, "ok.revoked", { name: kiosk.name }, "ok");
  else sayError(out, res.body, res.status);
  await refresh();
}

function openEditor(user) {
  editing = user;
  $("#edit-username").textContent = user.username;
  editForm.display_name.value = user.display_name;
  editForm.role.value = user.role;
  for (const box of editForm.querySelectorAll('input[name="items"]')) {
    box.checked = user.items.includes(box.value);
  }
  editForm.place.value = user.place || "";
  resetForm.password.value = "";
  $("#edit-result").hidden = true;
  $("#edit-panel").hidden = false;
  editForm.display_name.focus();
}

editForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!editing) return;
  const out = $("#edit-result");
  const body = {
    display_name: editForm.display_name.value.trim(),
    role: editForm.role.value,
    items: [...editForm.querySelectorAll('input[name="items"]:checked')].map((el) => el.value),
    place: editForm.place.value || null,
  };
  $("#edit-submit").disabled = true;
  const res = await call("PATCH", `/api/admin/users/${encodeURIComponent(editing.username)}`, body);
  $("#edit-submit").disabled = false;
  if (res.ok) {
    const key = res.body.changed?.length ? "ok.saved" : "ok.unchanged";
    say(out, key, { username: editing.username }, "ok");
    editing = res.body.user;
    await refresh();
  } else sayError(out, res.body, res.status);
});

resetForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!editing) return;
  const out = $("#edit-result");
  const url = `/api/admin/users/${encodeURIComponent(editing.username)}/password`;
  const res = await call("POST", url, { password: resetForm.password.value });
  if (res.ok) {
    resetForm.password.value = "";
    say(out, "ok.password", { username: editing.username }, "ok");
  } else sayError(out, res.body, res.status);
});

$("#edit-close").addEventListener("click", () => {
  editing = null;
  $("#edit-panel").hidden = true;
});

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const result = $("#add-result");
  const body = {
    username: form.username.value.trim(),
    display_name: form.display_name.value.trim() || null,
    password: form.password.value,
    role: form.role.value,
    items: [...form.querySelectorAll('input[name="items"]:checked')].map((el) => el.value),
    place: form.place.value || null,
  };
  $("#add-submit").disabled = true;
  const res = await call("POST", "/api/admin/users", body);
  $("#add-submit").disabled = false;
  if (res.status === 201) {
    say(result, "ok.added", { username: res.body.username }, "ok");
    form.reset();
    await refresh();
  } else sayError(result, res.body, res.status);
});

bindLogout($("#logout"));

loadCatalogue()
  .then((c) => {
    catalogue = c;
  })
  .catch((err) => console.warn("admin: catalogue", err))
  .finally(() => refresh());
