// replay_text.js — the replay page's audit events in words, zh-CN first: event
// names, actors, and each event's detail (states, reasons, media kinds, segments).

import * as i18n from "./i18n.js";
import { L, has } from "./replay_strings.js";

export function clockText(seconds) {
  const s = Math.max(0, seconds || 0);
  const m = Math.floor(s / 60);
  const rest = Math.floor(s % 60);
  return `${String(m).padStart(2, "0")}:${String(rest).padStart(2, "0")}`;
}

export function roleNames(role) {
  return has(`role.${role}`) ? L(`role.${role}`) : { zh: role || "", en: role || "" };
}

export function eventNames(type) {
  return has(`ev.${type}`) ? L(`ev.${type}`) : { zh: type, en: type };
}

function stateName(value) {
  return has(`state.${value}`) ? i18n.pick(L(`state.${value}`)) : value || "";
}

export function actorText(actor) {
  if (!actor) return "";
  const [role, ...rest] = actor.split(":");
  if (rest.length && has(`role.${role}`)) return `${i18n.pick(L(`role.${role}`))} ${rest.join(":")}`;
  return actor;
}

/** A session.state reason in words: known reasons, outcomes, "<role> failed|closed". */
function reasonText(reason) {
  if (!reason) return "";
  if (has(`reason.${reason}`)) return i18n.pick(L(`reason.${reason}`));
  if (i18n.has(`outcome.${reason}`)) return i18n.t(`outcome.${reason}`);
  const link = /^(\w+) (failed|closed)$/.exec(reason);
  if (link) return i18n.pick(L("reason.link", { role: roleNames(link[1]), link: L(`link.${link[2]}`) }));
  return reason;
}

function linkText(value) {
  return has(`link.${value}`) ? i18n.pick(L(`link.${value}`)) : value || "";
}

/** A participant id (e.g. in segment events) as the role of its lane. */
function participantText(id, data) {
  const lane = data.lanes.find((l) => l.participant === id);
  return lane ? i18n.pick(roleNames(lane.role)) : id || "";
}

export function detailText(e, data) {
  const d = e.data || {};
  const pick = (key) => i18n.pick(L(key));
  const paren = (text) => (!text ? "" : i18n.lang() === "en" ? ` (${text})` : `（${text}）`);
  switch (e.type) {
    case "session.state":
      return `${stateName(d.from)} → ${stateName(d.to)}${paren(reasonText(d.reason))}`;
    case "participant.joined":
    case "participant.left":
    case "participant.dropped":
    case "participant.added": {
      const part = d.party && has(`party.${d.party}`) ? L(`party.${d.party}`) : roleNames(d.role);
      return [i18n.pick(part), d.name !== d.account ? d.name : "", linkText(d.state)]
        .filter(Boolean)
        .join(" · ");
    }
    case "participant.invited":
    case "participant.invite_declined":
    case "participant.invite_timeout":
    case "participant.invite_cancelled":
      return [d.party && has(`party.${d.party}`) ? pick(`party.${d.party}`) : "", d.account || ""]
        .filter(Boolean)
        .join(" · ");
    case "media.state":
      return [
        `${pick("camera")} ${pick(d.video ? "on" : "off")}`,
        `${pick("mic")} ${pick(d.audio ? "on" : "off")}`,
      ].join(i18n.lang() === "en" ? ", " : "，");
    case "segment.opened":
    case "segment.closed": {
      const kind = has(`kind.${d.kind}`) ? pick(`kind.${d.kind}`) : d.kind;
      const seg = i18n.pick(L("player.segment", { n: d.segment }));
      return [participantText(d.participant, data), kind, seg].filter(Boolean).join(" · ");
    }
    case "archive.opened": {
      const info = d.info || {};
      const names = data.case.item_names;
      const item = names && info.item === data.case.item ? i18n.pick(names) : info.item;
      const priority = info.priority_class && info.priority_class !== "normal";
      return [`${pick("fact.item")} ${item || ""}`, priority ? pick("opened.priority") : ""]
        .filter(Boolean)
        .join(" · ");
    }
    case "recovered":
      return pick("recovered.detail");
    case "recording.notice_shown":
      return d.text || "";
    case "archive.finalized":
      if (!d.outcome) return "";
      return i18n.has(`outcome.${d.outcome}`) ? i18n.t(`outcome.${d.outcome}`) : d.outcome;
    case "session.created":
      if (d.queue_wait_s === undefined) return "";
      return `${pick("fact.queue")} ${clockText(d.queue_wait_s)}`;
    case "document.stored":
    case "evidence.stored":
      return d.file || "";
    default: {
      const json = JSON.stringify(d);
      return json === "{}" ? "" : json.slice(0, 160);
    }
  }
}
