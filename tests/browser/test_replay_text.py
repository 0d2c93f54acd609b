"""The replay page's audit text: every event type the archive holds has zh-CN and
English words, and the zh-CN page shows no English words (identifiers such as
account names, participant ids, item codes and file names are data, not words)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.api.test_archive_routes import record_session
from tests.browser.conftest import Pages
from tests.browser.test_replay import _open_replay

pytestmark = pytest.mark.browser

# The event types of a case's events.jsonl: recording/archive.py (archive.opened,
# archive.finalized, segment.*, document.stored, evidence.stored), recording/recovery.py
# (recovered), server/recorder.py, session_manager.py, video_session.py and
# archive_routes.py (session.*, recording.notice_shown, participant.*, media.state, access.*).
CASE_EVENT_TYPES = [
    "archive.opened",
    "archive.finalized",
    "recovered",
    "segment.opened",
    "segment.closed",
    "document.stored",
    "evidence.stored",
    "session.created",
    "session.state",
    "recording.notice_shown",
    "participant.joined",
    "participant.left",
    "participant.dropped",
    "participant.added",
    "participant.invited",
    "participant.invite_declined",
    "participant.invite_timeout",
    "participant.invite_cancelled",
    "media.state",
    "access.viewed",
    "access.downloaded",
]

# For each type: [zh, en] from replay_strings.js, or null when it has none.
STRINGS_JS = """async (types) => {
  const { L, has } = await import("/static/replay_strings.js");
  const words = (t) => (has(`ev.${t}`) ? [L(`ev.${t}`).zh, L(`ev.${t}`).en] : null);
  return Object.fromEntries(types.map((t) => [t, words(t)]));
}"""

# The text of the replay page with every identifier of the case taken out.
WORDS_JS = """() => {
  const data = window.rwReplay.data();
  const ids = new Set([data.case.id, data.case.item, data.case.place]);
  for (const lane of data.lanes) {
    [lane.participant, lane.account, lane.name].forEach((v) => ids.add(v));
  }
  for (const p of data.case.participants || []) [p.account, p.name].forEach((v) => ids.add(v));
  for (const e of data.events) {
    for (const part of (e.actor || "").split(":")) ids.add(part);
    for (const key of ["participant", "account", "name", "file", "session", "ticket"]) {
      if (typeof e.data?.[key] === "string") ids.add(e.data[key]);
    }
  }
  for (const [key, value] of Object.entries(data.events[0]?.data?.info || {})) {
    if (typeof value === "string" && key !== "priority_class") ids.add(value);
  }
  for (const f of data.files) ids.add(f.path);
  let text = document.querySelector("#replay").innerText;
  for (const id of [...ids].filter((v) => v && v.length > 1).sort((a, b) => b.length - a.length)) {
    text = text.split(id).join(" ");
  }
  return text;
}"""


async def test_every_case_event_type_has_zh_and_english(pages: Pages) -> None:
    page = await pages.open("/login")
    strings = await page.evaluate(STRINGS_JS, CASE_EVENT_TYPES)
    missing = [t for t, s in strings.items() if s is None]
    assert not missing, f"no words for {missing}"
    for event_type, (zh, en) in strings.items():
        assert zh and not any("a" <= c.lower() <= "z" for c in zh), (event_type, zh)
        assert en and en != zh, (event_type, en)


async def test_zh_replay_page_has_no_english_words(pages: Pages) -> None:
    # A rejoin brings a dropped participant and a reconnecting session into the case.
    folder = await record_session(pages.server, frames=60, rejoin=True)
    page = await _open_replay(pages, folder.name)
    await expect(page.locator('#events li[data-type="participant.dropped"]')).to_be_visible()
    await page.check("#show-tech")
    await expect(page.locator('#events li[data-type="segment.opened"]').first).to_be_visible()
    opened = page.locator('#events li[data-type="archive.opened"] .ev-detail')
    await expect(opened).to_have_text("办理事项 个体工商户设立登记")
    text = await page.evaluate(WORDS_JS)
    english = sorted(set(re.findall(r"[A-Za-z]{2,}", text)))
    assert not english, f"English words in the zh-CN replay page: {english}\n{text}"
