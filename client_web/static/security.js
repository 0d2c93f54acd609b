// security.js — the security admin assigns roles (POST /api/admin/users/<u>/role).

import { setNames } from "./i18n.js";
import { applyStrings, names } from "./security_strings.js";
import { bindLogout, csrf } from "./staff.js";

applyStrings();
const msg = document.querySelector("#role-message");

for (const button of document.querySelectorAll("[data-role-save]")) {
  button.addEventListener("click", async () => {
    const row = button.closest("tr");
    const user = row.dataset.username;
    const role = row.querySelector("[data-role-select]").value;
    const resp = await fetch(`/api/admin/users/${encodeURIComponent(user)}/role`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify({ role }),
    });
    const data = await resp.json().catch(() => ({}));
    msg.hidden = false;
    msg.classList.toggle("error", !resp.ok);
    if (resp.ok) setNames(msg, names("saved", { user, role: names(`role.${role}`) }));
    else if (data.code === "required" || data.code === "self") setNames(msg, names(`err.${data.code}`));
    else setNames(msg, names("failed", { message: data.message || resp.status }));
  });
}
const logout = document.querySelector("#logout");
if (logout) bindLogout(logout);
