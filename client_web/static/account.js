// account.js — the account page: change the password, enrol a TOTP second
// factor, sign out everywhere. A restricted session (forced change, TOTP
// enrolment) goes to its home page once done.

import { setNames } from "./i18n.js";
import { names } from "./account_strings.js";
import { bindLogout, csrf } from "./staff.js";

const $ = (sel) => document.querySelector(sel);

async function post(path, body) {
  const resp = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { resp, data: await resp.json().catch(() => ({})) };
}

function say(el, key, vars, ok = false) {
  setNames(el, names(key, vars));
  el.classList.toggle("error", !ok);
  el.hidden = false;
}

const restricted = $("#restricted")?.dataset.restricted;

function goOnWhenFree() {
  // Back to the role's home when nothing restricts the session any more.
  fetch("/api/me", { credentials: "same-origin" })
    .then((r) => r.json())
    .then((me) => {
      if (!me.user?.restricted && restricted) location.assign(me.home || "/");
      else if (me.user?.restricted && me.user.restricted !== restricted) location.reload();
    })
    .catch(() => {});
}

const pwForm = $("#password-form");
const pwMsg = $("#password-message");
pwForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const policy = $("#policy").dataset;
  const old_password = pwForm.old_password.value;
  const new_password = pwForm.new_password.value;
  if (!old_password || !new_password) return say(pwMsg, "pw.required");
  if (new_password !== pwForm.new_password2.value) return say(pwMsg, "pw.mismatch");
  const { resp, data } = await post("/api/account/password", { old_password, new_password });
  if (resp.ok) {
    pwForm.reset();
    say(pwMsg, "pw.done", {}, true);
    goOnWhenFree();
    return;
  }
  const code = data.code || "";
  const n = { too_short: policy.min, classes: policy.classes, reused: policy.history }[code];
  const known = ["too_short", "too_long", "classes", "username", "reused", "wrong", "required"];
  say(pwMsg, known.includes(code) ? `pw.${code}` : "failed", { n });
});

const start = $("#totp-start");
if (start) {
  const msg = $("#totp-message");
  start.addEventListener("click", async () => {
    const { resp, data } = await post("/api/account/totp/enrol");
    if (!resp.ok) return say(msg, "failed");
    $("#totp-qr").src = `data:image/svg+xml;base64,${btoa(data.qr_svg)}`;
    $("#totp-secret").textContent = data.secret;
    $("#totp-enrol").hidden = false;
    start.hidden = true;
  });
  $("#totp-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { resp } = await post("/api/account/totp/confirm", { code: $("#totp-code").value });
    if (!resp.ok) return say(msg, "totp.wrong");
    $("#totp-enrol").hidden = true;
    say(msg, "totp.done", {}, true);
    goOnWhenFree();
  });
}

$("#logout-everywhere").addEventListener("click", async () => {
  await post("/api/logout/everywhere");
  location.assign("/login");
});
const logout = $("#logout");
if (logout) bindLogout(logout);
