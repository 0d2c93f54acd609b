// case_live.js — case.updated pushes (signaling/PROTOCOL.md) for the counter's
// pages: fn(msg) on each push about a case this account may read, fn(null)
// after a reconnect (pushes are not replayed, so the caller reads again).
// The reviewer's case page does not open a socket: the desk holds the
// reviewer's, and an account has only a few.

import { RwClient } from "./rwclient.js";

export function onCaseUpdates(fn) {
  const client = new RwClient({ autoMedia: false });
  let opened = false;
  client.on("case.updated", (msg) => fn(msg));
  client.on("open", () => {
    if (opened) fn(null);
    opened = true;
  });
  client.connect();
  return client;
}
