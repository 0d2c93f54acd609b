// Shared by the signed-in staff pages (desk, admin, cases, replay).

/** The session's CSRF token, rendered into the page's <meta name="csrf-token">. */
export function csrf() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

/** POST a JSON body with the CSRF token; the parsed answer, or an Error with its message. */
export async function postJson(path, body) {
  const resp = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify(body),
  });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(data.message || String(resp.status));
  return data;
}

/** Sign out on click, then back to the sign-in page for this page. */
export function bindLogout(button, beforeLeave = () => {}) {
  button.addEventListener("click", async () => {
    beforeLeave();
    try {
      await fetch("/api/logout", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf() },
      });
    } finally {
      location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    }
  });
}

/**
 * On a phone the tables stack one block per row (rw.css): each cell shows its
 * column's heading from data-label. Kept up to date as rows and languages change.
 */
function labelCells(table) {
  const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  for (const row of table.querySelectorAll("tbody tr")) {
    [...row.cells].forEach((td, i) => {
      if (heads[i] !== undefined && td.dataset.label !== heads[i]) td.dataset.label = heads[i];
    });
  }
}

for (const table of document.querySelectorAll("table.table")) {
  labelCells(table);
  new MutationObserver(() => labelCells(table)).observe(table, {
    childList: true,
    subtree: true,
    characterData: true,
  });
}
