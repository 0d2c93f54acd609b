// desk_party.js — N-party sessions on a page with an RwClient: the other
// participants' videos in a grid (from session.participants routes), and, on a
// reviewer's desk, inviting a colleague (视频会商) and answering an invitation.

import * as i18n from "./i18n.js";
import { L } from "./desk_party_strings.js";

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

/**
 * The grid of the other participants beyond the main remote video: one tile
 * per participant carried beyond the main video's two m-lines (audio plays
 * from the tile), as the session.participants routes say.
 */
export function mountGrid(client, grid) {
  const tiles = new Map(); // participant id -> {tile, video, label, stream}

  function render() {
    const roster = client.roster;
    const wanted = new Map();
    const primary = client.primaryMids();
    for (const route of roster?.routes || []) {
      if (!route.from || route.track === "video:1") continue; // the document camera has its own view
      if (primary.has(route.mid)) continue; // shown in the main video
      const track = client.trackOn(route.mid);
      if (!track) continue;
      if (!wanted.has(route.from)) wanted.set(route.from, []);
      wanted.get(route.from).push(track);
    }
    for (const [id, entry] of tiles) {
      if (!wanted.has(id)) {
        entry.tile.remove();
        tiles.delete(id);
      }
    }
    const people = new Map((roster?.participants || []).map((p) => [p.id, p]));
    for (const [id, tracks] of wanted) {
      let entry = tiles.get(id);
      if (!entry) {
        const video = el("video", { autoplay: "", playsinline: "" });
        const label = el("span", { class: "self-label" });
        const tile = el("div", { class: "party-tile", "data-participant": id }, [video, label]);
        grid.append(tile);
        entry = { tile, video, label, stream: new MediaStream() };
        video.srcObject = entry.stream;
        tiles.set(id, entry);
      }
      for (const old of entry.stream.getTracks()) {
        if (!tracks.includes(old)) entry.stream.removeTrack(old);
      }
      for (const track of tracks) {
        if (!entry.stream.getTracks().includes(track)) entry.stream.addTrack(track);
      }
      entry.video.play().catch(() => {});
      const p = people.get(id);
      const party = p ? i18n.pick(L(`party.${p.party}`)) : "";
      const link = p && p.link !== "connected" ? ` · ${i18n.pick(L(`link.${p.link}`))}` : "";
      entry.label.textContent = p ? `${party} ${p.name}${link}` : id;
      entry.tile.dataset.link = p?.link || "";
    }
    grid.hidden = tiles.size === 0;
  }

  client.on("session.participants", render);
  client.on("partytrack", render);
  client.on("session.ended", () => {
    for (const entry of tiles.values()) entry.tile.remove();
    tiles.clear();
    grid.hidden = true;
  });
  i18n.onChange(render);
  return { render, tiles };
}

/** The reviewer's 邀请同事 form and the ringing banner of an incoming invitation. */
export function mountInvites(client, { form, input, status, ring }) {
  const say = (names, tone = "") => {
    i18n.setNames(status, names);
    status.className = `message ${tone}`.trim();
    status.hidden = false;
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const account = input.value.trim();
    if (!account) {
      say(L("account.empty"), "warn");
      return;
    }
    client.send({ type: "session.invite", account });
  });
  client.on("session.invite_result", (msg) => {
    if (msg.invite_id === ring.dataset.invite) {
      ring.hidden = true; // our desk stopped ringing (timeout, cancelled)
      delete ring.dataset.invite;
      return;
    }
    const tone = { declined: "warn", timeout: "warn", cancelled: "warn" }[msg.result] || "";
    say(msg.notice, tone);
    if (msg.result === "accepted") input.value = "";
  });
  client.on("error", (msg) => {
    if (msg.ref === "session.invite") say({ zh: msg.message, en: msg.message }, "error");
  });

  const text = ring.querySelector("[data-ring-text]");
  const answer = (accept) => {
    client.send({ type: "session.invite_answer", invite_id: ring.dataset.invite, accept });
    ring.hidden = true;
    delete ring.dataset.invite;
  };
  ring.querySelector("[data-ring-accept]").addEventListener("click", () => answer(true));
  ring.querySelector("[data-ring-decline]").addEventListener("click", () => answer(false));
  client.on("session.invited", (msg) => {
    ring.dataset.invite = msg.invite_id;
    i18n.setNames(text, L("ringing", { name: msg.inviter.name, item: msg.item }));
    ring.hidden = false;
  });
}
