// The spot-check player of /supervision: the observed session's videos (each
// participant's face and the document camera if any), received on the page's
// RwClient, which is receive-only (no getUserMedia, no camera prompt). The
// server's session.participants routes say which m-line carries whom.
import * as i18n from "./i18n.js";
import { names as L } from "./supervision_strings.js";

/** Follow `client`'s observed session into the panel `#sv-player`; `stop()` is 结束旁听. */
export function attachPlayer(client, stop) {
  const panel = document.querySelector("#sv-player");
  const box = document.querySelector("#sv-videos");
  const tiles = new Map(); // "holder/track" -> {tile, video, label}

  function label(person, track) {
    if (track !== "video") return L("party.document");
    return L(`party.${person?.party || "applicant"}`);
  }

  function render() {
    const roster = client.roster;
    if (!client.session || !roster) return;
    panel.hidden = false;
    const people = new Map(roster.participants.map((p) => [p.id, p]));
    const audio = new Map(); // holder -> its audio receiver track
    for (const r of roster.routes) {
      if (r.kind === "audio" && r.from) audio.set(r.from, client.trackOn(r.mid));
    }
    const wanted = new Set();
    for (const r of roster.routes) {
      if (r.kind !== "video" || !r.from) continue;
      const key = `${r.from}/${r.track}`;
      const track = client.trackOn(r.mid);
      if (!track) continue;
      wanted.add(key);
      let entry = tiles.get(key);
      if (!entry) {
        const video = document.createElement("video");
        video.autoplay = true;
        video.playsInline = true;
        const name = document.createElement("span");
        name.className = "sv-video-label";
        const tile = document.createElement("figure");
        tile.className = "sv-video";
        tile.dataset.source = key;
        tile.append(video, name);
        box.append(tile);
        entry = { tile, video, name, track: null };
        tiles.set(key, entry);
      }
      if (entry.track !== track) {
        entry.track = track;
        const stream = new MediaStream([track]);
        const sound = r.track === "video" ? audio.get(r.from) : null;
        if (sound) stream.addTrack(sound);
        entry.video.srcObject = stream;
        entry.video.play().catch(() => {
          entry.video.muted = true; // autoplay policy: the picture at least
          entry.video.play().catch(() => {});
        });
      }
      const person = people.get(r.from);
      i18n.setNames(entry.name, label(person, r.track));
      if (person?.name) entry.name.title = person.name;
    }
    for (const [key, entry] of tiles) {
      if (!wanted.has(key)) {
        entry.tile.remove();
        tiles.delete(key);
      }
    }
  }

  function close() {
    for (const entry of tiles.values()) entry.tile.remove();
    tiles.clear();
    panel.hidden = true;
  }

  for (const ev of ["session.participants", "partytrack", "remotestream", "pcstate"]) {
    client.on(ev, () => setTimeout(render, 0)); // after the client has taken it in
  }
  client.on("session.ended", close);
  client.on("close", close);
  document.querySelector("#sv-player-stop").addEventListener("click", () => {
    const id = client.session?.session_id;
    if (id) stop(id);
    close();
  });
  i18n.onChange(render);
  return { render, close, tiles };
}
