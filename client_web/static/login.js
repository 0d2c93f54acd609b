// login.js — staff sign-in: POST /api/login as JSON, then go where the server says
// (the `next` page when it is same-origin and the role may open it, else the role's home).

import * as i18n from "./i18n.js";
import { names } from "./login_strings.js";

const form = document.querySelector("#login-form");
const errorBox = document.querySelector("#login-error");
const submit = document.querySelector("#login-submit");

// Only a path on this origin, read as the browser reads it (tabs/newlines dropped,
// backslashes as slashes): anything else goes home.
function sameOrigin(raw) {
  if (typeof raw !== "string" || !raw.startsWith("/") || /[\\\s]/.test(raw)) return "/";
  try {
    const url = new URL(raw, location.origin);
    return url.origin === location.origin ? url.pathname + url.search + url.hash : "/";
  } catch {
    return "/";
  }
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
      body: JSON.stringify({
        username,
        password,
        next: form.dataset.next || null,
        totp: form.totp.value.trim() || null,
      }),
    });
    if (resp.ok) {
      const body = await resp.json().catch(() => ({}));
      location.assign(sameOrigin(body.next));
      return;
    }
    if (resp.status === 401) {
      const body = await resp.json().catch(() => ({}));
      if (body.error === "totp_required" || body.error === "bad_totp") {
        document.querySelector("#totp-row").hidden = false;
        form.totp.focus();
        i18n.setNames(errorBox, names(body.error));
        errorBox.hidden = false;
      } else fail("login.bad");
    }
    else if (resp.status === 423 || resp.status === 429) {
      const body = await resp.json().catch(() => ({}));
      const n = Math.max(1, Math.ceil((body.retry_after_s || 900) / 60));
      fail(resp.status === 429 ? "login.throttled" : "login.locked", { n });
    } else fail("login.failed");
  } catch {
    fail("login.failed");
  } finally {
    submit.disabled = false;
    i18n.setText(submit, "login.submit");
  }
});
