// admin.js — accounts and kiosks; add a user with POST /api/admin/users (X-CSRF-Token).

import * as i18n from "./i18n.js";
import { bindLogout, csrf } from "./staff.js";
import { loadCatalogue } from "./rwclient.js";

const $ = (sel) => document.querySelector(sel);
const form = $("#add-user");
const result = $("#add-result");
let catalogue = null;

function say(key, vars, tone) {
  i18n.setText(result, key, vars);
  result.className = `message ${tone}`;
  result.hidden = false;
}

function cell(row, text) {
  const td = document.createElement("td");
  if (text !== undefined) td.textContent = text;
  row.append(td);
  return td;
}

function renderUsers(users) {
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
    const place = cell(tr);
    const known = u.place && catalogue?.places[u.place];
    if (known) i18n.setNames(place, known.names);
    else place.textContent = u.place || "";
    i18n.setText(cell(tr), u.disabled ? "admin.disabled" : "admin.enabled");
    return tr;
  });
  $("#users-rows").replaceChildren(...rows);
}

async function refresh() {
  const resp = await fetch("/api/admin/accounts", { credentials: "same-origin" });
  if (!resp.ok) return;
  const data = await resp.json();
  renderUsers(data.users);
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = {
    username: form.username.value.trim(),
    display_name: form.display_name.value.trim() || null,
    password: form.password.value,
    role: form.role.value,
    items: [...form.querySelectorAll('input[name="items"]:checked')].map((el) => el.value),
    place: form.place.value || null,
  };
  $("#add-submit").disabled = true;
  try {
    const resp = await fetch("/api/admin/users", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body),
    });
    const data = await resp.json().catch(() => ({}));
    if (resp.status === 201) {
      say("admin.add.ok", { username: data.username }, "ok");
      form.reset();
      await refresh();
    } else {
      say("admin.add.failed", { message: data.message || data.error || resp.status }, "error");
    }
  } catch (err) {
    say("admin.add.failed", { message: String(err) }, "error");
  } finally {
    $("#add-submit").disabled = false;
  }
});

bindLogout($("#logout"));

loadCatalogue()
  .then((c) => {
    catalogue = c;
  })
  .catch((err) => console.warn("admin: catalogue", err));
