// village_call.js — 视频代办: a video session on an applicant's behalf, from the
// village agent's phone or tablet. The agent receives the case (mode assisted,
// name and ID entered here), joins the item's queue over the socket exactly as a
// kiosk does (queue.join), and when a reviewer takes the call links the case to
// the session (POST /api/village/cases/{number}/session), so the desk sees it.

import { setNames } from "./i18n.js";
import { RwClient } from "./rwclient.js";
import { casePage, createCase } from "./case_client.js";
import { attachLocal, attachRemote, wireSoundButton } from "./callview.js";
import { linkSession } from "./village_api.js";
import { names, refused } from "./village_strings.js";

const ELDERLY_AGE = 65; // the catalogue's priority class 老年人（65周岁以上）

/** The queue's priority class: disabled when ticked, elderly from the ID's birth date. */
export function priorityOf(idNumber, disabled, today = new Date()) {
  if (disabled) return "disabled";
  const m = /^\d{6}(\d{4})(\d{2})(\d{2})/.exec(String(idNumber).trim());
  if (!m) return "normal";
  const [year, month, day] = m.slice(1).map(Number);
  let age = today.getFullYear() - year;
  if (today.getMonth() + 1 < month || (today.getMonth() + 1 === month && today.getDate() < day)) age -= 1;
  return age >= ELDERLY_AGE ? "elderly" : "normal";
}

export function mountVideo(root, { say, onCaseChange }) {
  const $ = (sel) => root.querySelector(sel);
  const form = $("#vs-form");
  const live = $("#vs-live");
  const status = $("#vs-status");
  const client = new RwClient();
  window.rw = client; // for tests and the curious, as on the kiosk
  let current = null; // {number, item}
  let linked = null; // the session id the case is linked to

  const show = (key, vars) => setNames(status, names(key, vars));
  const buttons = (which) => {
    $("#vs-leave").hidden = which !== "waiting";
    $("#vs-end").hidden = which !== "call";
    $("#vs-again").hidden = which !== "ended";
  };

  function showLive(caseBody) {
    current = { number: caseBody.number, item: caseBody.item };
    const link = $("#vs-case");
    link.textContent = caseBody.number;
    link.href = casePage(caseBody.number);
    const a = caseBody.applicant;
    setNames($("#vs-applicant"), names("vs.applicant", { name: a.name, id: a.id_number }));
    form.hidden = true;
    live.hidden = false;
  }

  function reset() {
    current = null;
    linked = null;
    form.reset();
    form.hidden = false;
    live.hidden = true;
    $("#vs-remote").srcObject = null;
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const start = $("#vs-start");
    start.disabled = true;
    try {
      say(names("vs.creating"));
      const res = await createCase({
        item: $("#vs-item").value,
        mode: "assisted",
        applicant_name: $("#vs-name").value,
        applicant_id: $("#vs-id").value,
        applicant_disabled: $("#vs-disabled").checked,
      });
      if (!res.ok) return say(refused(res.status, res.body), "error");
      say(null);
      showLive(res.body);
      show("vs.joining");
      buttons("waiting");
      client.acquireMedia();
      const priority = priorityOf($("#vs-id").value, $("#vs-disabled").checked);
      client.send({
        type: "queue.join",
        item: res.body.item,
        priority_class: priority,
        recording_notice_shown: true,
      });
      onCaseChange();
    } finally {
      start.disabled = false;
    }
  });

  client.on("queue.status", (msg) => {
    if (!current) return;
    if (msg.ahead > 0) show("vs.waiting", { n: msg.ahead });
    else show("vs.next");
  });
  client.on("queue.left", () => {
    client.releaseMedia();
    if (current) say(names("vs.left"));
    reset();
  });
  client.on("session.paired", async (msg) => {
    show("vs.paired");
    buttons("call");
    if (!current || linked === msg.session_id) return;
    const res = await linkSession(current.number, msg.session_id);
    if (!res.ok) return say(refused(res.status, res.body), "error");
    linked = msg.session_id;
    say(names("vs.linked", { number: current.number }), "ok");
  });
  client.on("pcstate", ({ state }) => {
    if (state === "connected") show("vs.live");
  });
  client.on("localmedia", (local) => attachLocal([$("#vs-self")], local));
  client.on("remotestream", ({ stream }) => attachRemote($("#vs-remote"), stream, $("#vs-sound")));
  wireSoundButton($("#vs-sound"), $("#vs-remote"));
  client.on("session.ended", () => {
    client.releaseMedia();
    $("#vs-remote").srcObject = null;
    show("vs.ended");
    buttons("ended");
    onCaseChange();
  });
  client.on("case.updated", () => onCaseChange());
  client.on("error", (msg) => {
    if (msg.ref === "queue.join") say({ zh: `排队未成功：${msg.message}`, en: msg.message }, "error");
  });

  $("#vs-leave").addEventListener("click", () => client.send({ type: "queue.leave" }));
  $("#vs-end").addEventListener("click", () => client.endSession("incomplete"));
  $("#vs-again").addEventListener("click", () => reset());
  client.connect();
  return client;
}
