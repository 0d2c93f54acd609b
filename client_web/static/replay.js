// replay.js — replay one archived case: both parties' recordings in sync, the
// audit events on a timeline, the access record.
//
// Data: GET /api/cases/{id} (opening it is logged as `access.viewed`). Each lane
// is one participant; each of its segments (joins) has a video and an audio file
// whose time 0 is the segment's wall-clock start (`offset_s`, seconds after the
// session started). One clock (`state.position`, seconds from the session start)
// drives every element: an element plays `position - offset_s` of the segment
// active at `position`; between segments (a rejoin gap) it is hidden. The clock
// waits while an active element is still buffering.

import * as i18n from "./i18n.js";
import { L, has } from "./replay_strings.js";
import { actorText, clockText, detailText, eventNames, roleNames } from "./replay_text.js";
import { bindLogout } from "./staff.js";

const $ = (sel) => document.querySelector(sel);
const TECHNICAL = new Set(["segment.opened", "segment.closed", "archive.opened"]);
const SEEK_STEPS = 1000;

const root = $("#replay");
const state = {
  data: null,
  duration: 0,
  position: 0,
  playing: false,
  rate: 1,
  lastTick: null,
  waiting: false,
  players: [],
  picked: null, // seq of the event last clicked: it stays current among events at one instant
};

function el(tag, cls, names) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (names) i18n.setNames(node, names);
  return node;
}

function text(tag, cls, value) {
  const node = el(tag, cls);
  node.textContent = value ?? "";
  return node;
}

function offsetText(seconds) {
  const s = Math.max(0, seconds || 0);
  return `${clockText(s)}.${Math.floor((s % 1) * 10)}`;
}

function wallTime(iso, withDate = false) {
  if (!iso) return "";
  const when = new Date(iso);
  const lang = i18n.lang() === "en" ? "en-GB" : "zh-CN";
  const opts = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
  if (withDate) Object.assign(opts, { year: "numeric", month: "2-digit", day: "2-digit" });
  return when.toLocaleString(lang, opts);
}

function pct(seconds) {
  if (!state.duration) return 0;
  return Math.min(100, Math.max(0, (seconds / state.duration) * 100));
}

// -- loading -------------------------------------------------------------------

async function load() {
  const error = root.dataset.error;
  if (error) return fail(`status.${error}`);
  const id = root.dataset.session;
  let resp;
  try {
    resp = await fetch(`/api/cases/${encodeURIComponent(id)}`, { credentials: "same-origin" });
  } catch {
    return fail("status.error", { status: "network" });
  }
  if (resp.status === 404) return fail("status.not_found");
  if (resp.status === 403) return fail("status.forbidden");
  if (resp.status === 409) return fail("status.unsigned");
  if (!resp.ok) return fail("status.error", { status: resp.status });
  state.data = await resp.json();
  state.duration = Math.max(
    0.1,
    state.data.case.duration_s ||
      Math.max(0, ...state.data.lanes.flatMap((l) => l.segments.map((s) => s.end_s || 0))),
  );
  $("#replay-status").hidden = true;
  $("#replay-body").hidden = false;
  buildPlayers();
  renderAll();
  tick();
}

function fail(key, vars) {
  const box = $("#replay-error");
  i18n.setNames(box, L(key, vars));
  box.hidden = false;
  $("#replay-status").hidden = true;
}

// -- facts, integrity ------------------------------------------------------------

function renderFacts() {
  const c = state.data.case;
  const facts = $("#case-facts");
  facts.replaceChildren();
  const add = (key, value) => {
    facts.append(el("dt", "", L(key)));
    const dd = el("dd");
    if (value instanceof Node) dd.append(value);
    else if (value && typeof value === "object") i18n.setNames(dd, value);
    else dd.textContent = value ?? "";
    facts.append(dd);
  };
  const code = (names, raw) =>
    names ? { zh: `${names.zh}（${raw}）`, en: `${names.en} (${raw})` } : raw || "";
  add("fact.item", code(c.item_names, c.item));
  add("fact.place", c.place_names || c.place || "");
  const reviewers = c.participants
    .filter((p) => p.role === "reviewer" && (!p.party || p.party === "reviewer"))
    .map((p) => (p.name && p.name !== p.account ? `${p.name}（${p.account}）` : p.account));
  add("fact.reviewer", reviewers.join("、"));
  add("fact.started", wallTime(c.started_at, true));
  add("fact.duration", clockText(c.duration_s));
  const outcome = el("span");
  const outcomeKey = `outcome.${c.outcome}`;
  if (c.outcome && i18n.has(outcomeKey)) i18n.setText(outcome, outcomeKey);
  else outcome.textContent = c.outcome || "";
  add("fact.outcome", outcome);
  const created = state.data.events.find((e) => e.type === "session.created");
  if (created?.data?.queue_wait_s !== undefined) {
    add("fact.queue", clockText(created.data.queue_wait_s));
  }

  const box = $("#integrity");
  const integrity = state.data.integrity;
  const problems = [];
  if (!integrity.signature_ok) problems.push(L("integrity.signature"));
  const chain = integrity.chain_problem;
  if (chain) problems.push({ zh: chain, en: chain });
  if (!integrity.only_access_after_signing) problems.push(L("integrity.extra"));
  if (problems.length) {
    const what = {
      zh: problems.map((p) => p.zh).join("；"),
      en: problems.map((p) => p.en).join("; "),
    };
    i18n.setNames(box, L("integrity.bad", { what }));
    box.className = "integrity bad";
  } else {
    i18n.setNames(box, L("integrity.ok"));
    box.className = "integrity ok";
  }
  box.hidden = false;
}

// -- players -----------------------------------------------------------------------

function buildPlayers() {
  const holder = $("#players");
  holder.replaceChildren();
  state.players = state.data.lanes.map((lane) => {
    const figure = el("figure", "player");
    figure.dataset.participant = lane.participant;
    figure.dataset.role = lane.role;
    if (lane.track) figure.dataset.track = lane.track; // a second camera: the document camera
    const frame = el("div", "player-frame");
    const video = document.createElement("video");
    video.className = "player-video";
    video.muted = true; // sound comes from the audio element
    video.playsInline = true;
    video.preload = "auto";
    video.dataset.participant = lane.participant;
    const audio = document.createElement("audio");
    audio.preload = "auto";
    const overlay = el("div", "player-overlay");
    overlay.hidden = true;
    frame.append(video, overlay);
    const caption = el("figcaption", "player-caption");
    const who = el("span", "player-role", laneNames(lane));
    const named = lane.name && lane.name !== lane.account;
    const label = named ? `${lane.name} · ${lane.account}` : lane.account || lane.participant;
    const name = text("span", "player-name", label);
    const seg = el("span", "player-seg");
    const mute = el("button", "btn small player-mute", L("player.mute"));
    mute.type = "button";
    const player = { lane, figure, video, audio, overlay, seg, mute, current: undefined };
    mute.addEventListener("click", () => {
      audio.muted = !audio.muted;
      i18n.setNames(mute, L(audio.muted ? "player.unmute" : "player.mute"));
      mute.classList.toggle("off", audio.muted);
    });
    const extra = lane.track ? [el("span", "player-track", L("lane.document"))] : [];
    mute.hidden = !!lane.track; // the document camera is video only
    caption.append(who, ...extra, name, seg, mute);
    figure.append(frame, caption, audio);
    holder.append(figure);
    for (const media of [video, audio]) {
      media.addEventListener("loadedmetadata", () => sync(true));
    }
    return player;
  });
}

/** Who a lane is: its part in an N-party session (会商同事, 踏勘人员, ...) or its role. */
function laneNames(lane) {
  const key = `party.${lane.party}`;
  return lane.party && has(key) ? L(key) : roleNames(lane.role);
}

/** The segment of a lane that covers time t (seconds from the session start). */
function segmentAt(lane, t) {
  for (const seg of lane.segments) {
    const media = Math.max(seg.video?.duration || 0, seg.audio?.duration || 0);
    const end = seg.end_s ?? seg.offset_s + media;
    if (t >= seg.offset_s && t < end) return seg;
  }
  return null;
}

function overlayReason(lane, t) {
  const segs = lane.segments;
  if (!segs.length || t < segs[0].offset_s) return "player.before";
  const last = segs[segs.length - 1];
  if (t >= (last.end_s ?? Infinity)) return "player.after";
  return "player.gap";
}

function setSource(media, file) {
  if (file) {
    if (media.dataset.src !== file.url) {
      media.dataset.src = file.url;
      media.src = file.url;
    }
  } else if (media.dataset.src) {
    delete media.dataset.src;
    media.removeAttribute("src");
    media.load();
  }
}

/** Bring every element to the clock; `exact` after a seek (small tolerance). */
function sync(exact = false) {
  let waiting = false;
  for (const p of state.players) {
    const seg = segmentAt(p.lane, state.position);
    if (seg !== p.current) {
      p.current = seg;
      setSource(p.video, seg?.video);
      setSource(p.audio, seg?.audio);
      p.figure.classList.toggle("absent", !seg);
      p.overlay.hidden = !!seg;
      if (seg) i18n.setNames(p.seg, L("player.segment", { n: seg.segment }));
      else p.seg.textContent = "";
      exact = true;
    }
    if (!seg) {
      i18n.setNames(p.overlay, L(overlayReason(p.lane, state.position)));
      continue;
    }
    const target = state.position - seg.offset_s;
    for (const [media, file] of [
      [p.video, seg.video],
      [p.audio, seg.audio],
    ]) {
      if (!file || media.error || media.networkState === media.NETWORK_NO_SOURCE) continue;
      if (media.readyState < 1) {
        if (state.playing) waiting = true;
        continue;
      }
      const length = Number.isFinite(media.duration) ? media.duration : file.duration || Infinity;
      const within = target < length - 0.05 && !media.ended;
      const drift = Math.abs(media.currentTime - Math.min(target, length));
      if (drift > (exact || !state.playing ? 0.05 : 0.35)) {
        media.currentTime = Math.max(0, Math.min(target, length));
      }
      if (media.playbackRate !== state.rate) media.playbackRate = state.rate;
      if (state.playing && within) {
        if (media.paused) media.play().catch(() => {});
        if (media.readyState < 3) waiting = true;
      } else if (!media.paused) {
        media.pause();
      }
    }
  }
  state.waiting = waiting;
}

// -- clock -------------------------------------------------------------------------

function tick(now = performance.now()) {
  if (state.playing && state.lastTick !== null && !state.waiting) {
    state.position += ((now - state.lastTick) / 1000) * state.rate;
    if (state.position >= state.duration) {
      state.position = state.duration;
      setPlaying(false);
    }
  }
  state.lastTick = now;
  sync();
  renderPosition();
  requestAnimationFrame(tick);
}

function setPlaying(playing) {
  if (playing && state.position >= state.duration) state.position = 0;
  state.playing = playing;
  state.lastTick = performance.now();
  const button = $("#play");
  i18n.setNames(button, L(playing ? "pause" : "play"));
  button.setAttribute("aria-pressed", playing ? "true" : "false");
  sync(true);
}

function seek(seconds, pickedSeq = null) {
  state.picked = pickedSeq;
  state.position = Math.min(state.duration, Math.max(0, seconds));
  state.lastTick = performance.now();
  sync(true);
  renderPosition();
}

function renderPosition() {
  $("#clock").textContent = `${offsetText(state.position)} / ${offsetText(state.duration)}`;
  const seekBar = $("#seek");
  if (document.activeElement !== seekBar || !seekBar.matches(":active")) {
    seekBar.value = String(Math.round((state.position / state.duration) * SEEK_STEPS));
  }
  const share = pct(state.position) / 100;
  const left = `calc(var(--label-width) + (100% - var(--label-width) - 0.8rem) * ${share})`;
  $("#tl-playhead").style.setProperty("left", left);
  let current = null;
  let currentOffset = null;
  for (const e of state.data?.events || []) {
    if (e.signed && e.offset_s !== null && e.offset_s <= state.position) {
      current = e.seq;
      currentOffset = e.offset_s;
    }
  }
  const picked = state.data?.events.find((e) => e.seq === state.picked);
  if (picked && picked.offset_s === currentOffset) current = picked.seq;
  const list = $("#events");
  if (list.dataset.current !== String(current)) {
    list.dataset.current = String(current);
    for (const li of list.querySelectorAll("li")) {
      li.classList.toggle("current", Number(li.dataset.seq) === current);
    }
  }
}

// -- timeline ----------------------------------------------------------------------

function place(node, from, to) {
  node.style.setProperty("left", `${pct(from)}%`);
  if (to !== undefined) node.style.setProperty("width", `${Math.max(0.4, pct(to) - pct(from))}%`);
}

function renderTimeline() {
  const rows = $("#tl-rows");
  rows.replaceChildren();
  for (const lane of state.data.lanes) {
    const row = el("div", "tl-row");
    row.dataset.participant = lane.participant;
    row.append(el("span", "tl-label", lane.track ? L("lane.document") : laneNames(lane)));
    const track = el("div", "tl-track");
    for (const seg of lane.segments) {
      const bar = el("div", "tl-seg");
      bar.title = `${offsetText(seg.offset_s)} – ${offsetText(seg.end_s)}`;
      place(bar, seg.offset_s, seg.end_s ?? state.duration);
      track.append(bar);
    }
    for (const gap of state.data.gaps.filter((g) => g.participant === lane.participant)) {
      const bar = el("div", "tl-gap");
      const names = L("gap.title", { s: gap.seconds });
      bar.title = i18n.pick(names);
      bar.dataset.gap = `${gap.after_segment}-${gap.before_segment}`;
      place(bar, gap.from_s, gap.to_s);
      track.append(bar);
    }
    row.append(track);
    rows.append(row);
  }
  const row = el("div", "tl-row tl-events");
  row.append(el("span", "tl-label", L("lane.events")));
  const track = el("div", "tl-track");
  for (const e of state.data.events) {
    if (!e.signed || e.offset_s === null || TECHNICAL.has(e.type)) continue;
    const mark = el("button", "tl-event");
    mark.type = "button";
    mark.dataset.type = e.type;
    mark.dataset.seq = e.seq;
    mark.title = `${offsetText(e.offset_s)} ${i18n.pick(eventNames(e.type))}`;
    mark.setAttribute("aria-label", mark.title);
    place(mark, e.offset_s);
    mark.addEventListener("click", () => seek(e.offset_s, e.seq));
    track.append(mark);
  }
  row.append(track);
  rows.append(row);
}

function renderEvents() {
  const showTech = $("#show-tech").checked;
  const list = $("#events");
  list.replaceChildren();
  delete list.dataset.current;
  for (const e of state.data.events) {
    if (!e.signed) continue;
    const li = el("li", "event");
    li.dataset.type = e.type;
    li.dataset.seq = e.seq;
    li.dataset.offset = e.offset_s;
    if (TECHNICAL.has(e.type)) {
      li.classList.add("tech");
      li.hidden = !showTech;
    }
    const at = el("button", "ev-time");
    at.type = "button";
    at.textContent = offsetText(e.offset_s);
    at.title = wallTime(e.time, true);
    li.append(
      at,
      el("span", "ev-type", eventNames(e.type)),
      text("span", "ev-actor", actorText(e.actor)),
      text("span", "ev-detail", detailText(e, state.data)),
    );
    li.addEventListener("click", () => seek(e.offset_s, e.seq));
    list.append(li);
  }

  const access = $("#access");
  access.replaceChildren();
  const late = state.data.events.filter((e) => !e.signed);
  if (!late.length) access.append(el("li", "muted", L("access.none")));
  for (const e of late) {
    const li = el("li", "event");
    li.dataset.type = e.type;
    li.append(
      text("span", "ev-time", wallTime(e.time, true)),
      el("span", "ev-type", eventNames(e.type)),
      text("span", "ev-actor", actorText(e.actor)),
      e.data?.file
        ? el("span", "ev-detail", L("access.file", { file: e.data.file }))
        : text("span", "ev-detail", ""),
    );
    access.append(li);
  }

  const files = $("#files");
  files.replaceChildren();
  for (const f of state.data.files) {
    const li = el("li");
    const link = text("a", "", f.path);
    link.href = f.url;
    link.target = "_blank";
    link.rel = "noopener";
    li.append(link);
    files.append(li);
  }
  $("#files-panel").hidden = state.data.files.length === 0;
}

function renderAll() {
  if (!state.data) return;
  renderFacts();
  renderTimeline();
  renderEvents();
  renderPosition();
  $("#seek").setAttribute("aria-label", i18n.pick(L("seek")));
}

// -- controls ------------------------------------------------------------------------

$("#play").addEventListener("click", () => setPlaying(!state.playing));
$("#seek").addEventListener("input", (ev) => {
  seek((Number(ev.target.value) / SEEK_STEPS) * state.duration);
});
$("#rate").addEventListener("change", (ev) => {
  state.rate = Number(ev.target.value) || 1;
  sync(true);
});
$("#show-tech").addEventListener("change", () => {
  const show = $("#show-tech").checked;
  for (const li of document.querySelectorAll("#events li.tech")) li.hidden = !show;
});
$("#tl-rows").addEventListener("click", (ev) => {
  if (ev.target.closest(".tl-event")) return;
  const track = ev.target.closest(".tl-track");
  if (!track) return;
  const box = track.getBoundingClientRect();
  seek(((ev.clientX - box.left) / box.width) * state.duration);
});
document.addEventListener("keydown", (ev) => {
  if (!state.data || ev.target.closest("input, select, textarea")) return;
  if (ev.key === " " && !ev.target.closest("button")) {
    ev.preventDefault();
    setPlaying(!state.playing);
  } else if (ev.key === "ArrowLeft") seek(state.position - 5);
  else if (ev.key === "ArrowRight") seek(state.position + 5);
});
bindLogout($("#logout"));
i18n.onChange(renderAll);

// For tests and the curious: the replay clock.
window.rwReplay = {
  data: () => state.data,
  position: () => state.position,
  duration: () => state.duration,
  playing: () => state.playing,
  seek,
  play: () => setPlaying(true),
  pause: () => setPlaying(false),
};

load();
