// kiosk_rating.js — after a session, the kiosk offers the rating (好差评): five big
// buttons, reason chips for the bottom two levels, a spoken prompt. Skippable and
// never required: "skip", a failure or an idle timeout moves on at once.
//
// Sent over HTTP with the kiosk's device token: POST /api/ratings/sessions/{id}.
// The server checks from the signed session archive that this kiosk was in the
// session, and accepts one rating per session.
//
// kiosk.js calls offerRating() from its session.ended handler; this module keeps
// its own screen (built here, so the kiosk template is not touched).

import * as i18n from "./i18n.js";
import { speakText as speak } from "./kiosk_speech.js";
import { names } from "./kiosk_rating_strings.js";

const IDLE_MS = 45_000; // no touch: back to the start screen
let options = null;
let idleTimer = null;


async function loadOptions() {
  if (options) return options;
  const resp = await fetch("/api/ratings/options", { credentials: "omit" });
  if (!resp.ok) throw new Error(`options ${resp.status}`);
  options = await resp.json();
  return options;
}

function button(cls, names_, attrs = {}) {
  const el = document.createElement("button");
  el.type = "button";
  el.className = cls;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  i18n.setNames(el, names_);
  return el;
}

function section() {
  let el = document.querySelector('section[data-screen="rating"]');
  if (el) return el;
  if (!document.querySelector('link[href="/static/rating.css"]')) {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = "/static/rating.css";
    document.head.append(css);
  }
  el = document.createElement("section");
  el.className = "screen kiosk-rating";
  el.dataset.screen = "rating";
  el.hidden = true;
  document.querySelector("#main").append(el);
  return el;
}

function render(el, opts, chosen, picked) {
  el.replaceChildren();
  const h1 = document.createElement("h1");
  i18n.setNames(h1, names("rating.title"));
  const lead = document.createElement("p");
  lead.className = "kiosk-message";
  i18n.setNames(lead, names("rating.lead"));
  const levels = document.createElement("div");
  levels.className = "rating-levels";
  for (const lv of opts.levels) {
    const pressed = chosen === lv.level ? "true" : "false";
    levels.append(
      button("btn huge rating-level", lv, { "data-level": String(lv.level), "aria-pressed": pressed }),
    );
  }
  el.append(h1, lead, levels);
  if (chosen !== null && opts.bad_levels.includes(chosen)) {
    const p = document.createElement("p");
    p.className = "kiosk-message";
    i18n.setNames(p, names("rating.reasons"));
    const chips = document.createElement("div");
    chips.className = "rating-reasons";
    for (const r of opts.reasons) {
      const pressed = picked.has(r.code) ? "true" : "false";
      chips.append(button("chip", r, { "data-reason": r.code, "aria-pressed": pressed }));
    }
    el.append(p, chips);
  }
  const actions = document.createElement("div");
  actions.className = "rating-actions";
  if (chosen !== null) {
    actions.append(button("btn huge primary", names("rating.send"), { id: "rating-send" }));
  }
  actions.append(button("btn big", names("rating.skip"), { id: "rating-skip" }));
  el.append(actions);
}

/**
 * Offer the rating of session `sessionId`. `show(name)` switches kiosk screens,
 * `done(rated)` moves on (the thank-you screen), `idle()` goes back to the start.
 * Resolves to false when nothing is offered (no options: the server is away).
 */
export async function offerRating({ sessionId, token, show, done, idle }) {
  let opts;
  try {
    opts = await loadOptions();
  } catch (err) {
    console.warn("kiosk: no rating options", err);
    return false;
  }
  const el = section();
  let chosen = null;
  const picked = new Set();
  let finished = false;
  const finish = (rated, how = done) => {
    if (finished) return;
    finished = true;
    clearTimeout(idleTimer);
    el.onclick = null;
    how(rated);
  };
  const arm = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => finish(false, idle), IDLE_MS);
  };
  const send = async () => {
    try {
      const resp = await fetch(`/api/ratings/sessions/${encodeURIComponent(sessionId)}`, {
        method: "POST",
        credentials: "omit",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ level: chosen, reasons: [...picked] }),
      });
      if (!resp.ok) console.warn("kiosk: rating refused", resp.status);
      else speak(i18n.pick(names("rating.thanks")));
      finish(resp.ok);
    } catch (err) {
      console.warn("kiosk: rating not sent", err);
      finish(false);
    }
  };
  el.onclick = (ev) => {
    const target = ev.target.closest("button");
    if (!target || finished) return;
    arm();
    if (target.id === "rating-skip") return finish(false);
    if (target.id === "rating-send") return send();
    if (target.dataset.level) {
      chosen = Number(target.dataset.level);
      if (!opts.bad_levels.includes(chosen)) picked.clear();
    } else if (target.dataset.reason) {
      const code = target.dataset.reason;
      if (picked.has(code)) picked.delete(code);
      else picked.add(code);
    }
    render(el, opts, chosen, picked);
  };
  render(el, opts, chosen, picked);
  show("rating");
  speak(i18n.pick(names("rating.speak")));
  arm();
  return true;
}

// Loaded with the kiosk page, so the screen is ready the moment a session ends.
loadOptions().catch(() => {});
