// login.js — staff sign-in: POST /api/login as JSON, then go to `next`.

import * as i18n from "./i18n.js";

const form = document.querySelector("#login-form");
const errorBox = document.querySelector("#login-error");
const submit = document.querySelector("#login-submit");

function safeNext(raw) {
  return raw && raw.startsWith("/") && !raw.startsWith("//") ? raw : "/desk";
}

function fail(key, vars) {
  i18n.setText(errorBox, key, vars);
  errorBox.hidden = false;
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    fail("login.bad");
    return;
  }
  errorBox.hidden = true;
  submit.disabled = true;
  i18n.setText(submit, "login.busy");
  try {
    const resp = await fetch("/api/login", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password }),
    });
    if (resp.ok) {
      location.assign(safeNext(form.dataset.next));
      return;
    }
    if (resp.status === 401) fail("login.bad");
    else if (resp.status === 423) {
      const body = await resp.json().catch(() => ({}));
      fail("login.locked", { n: Math.max(1, Math.ceil((body.retry_after_s || 900) / 60)) });
    } else fail("login.failed");
  } catch {
    fail("login.failed");
  } finally {
    submit.disabled = false;
    i18n.setText(submit, "login.submit");
  }
});
