// observer_notice.js — the live spot check notice (监督人员在线) on the kiosk and
// the desk: shown while the server says a supervisor observes the session
// (session.observer with a notice, signaling/PROTOCOL.md), hidden otherwise.

import * as i18n from "./i18n.js";

export function wireObserverNotice(client, anchor) {
  const el = document.createElement("p");
  el.id = "observer-notice";
  el.className = "status-line warn observer-notice";
  el.setAttribute("role", "status");
  el.setAttribute("aria-live", "polite");
  el.hidden = true;
  anchor.after(el);
  const hide = () => {
    el.hidden = true;
  };
  client.on("session.observer", (msg) => {
    if (msg.notice) {
      i18n.setNames(el, msg.notice);
      el.hidden = false;
    } else hide();
  });
  // A new pairing (or the same one after a reconnect) starts unobserved; the
  // server repeats the notice right after it while observers remain.
  client.on("session.paired", hide);
  client.on("session.ended", hide);
  return el;
}
