// Shared by the signed-in staff pages (desk, admin, cases, replay).

/** The session's CSRF token, rendered into the page's <meta name="csrf-token">. */
export function csrf() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
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
