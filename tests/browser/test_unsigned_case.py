"""A case folder without a valid signature, as a supervisor sees it in Chromium:
flagged 未签名 in the list, refused with an explanation on the replay page."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest
from playwright.async_api import expect

from server import appkeys as K
from tests.api.test_archive_routes import record_session
from tests.browser.conftest import Pages

pytestmark = pytest.mark.browser


async def test_an_unsigned_case_is_flagged_and_not_replayed(pages: Pages) -> None:
    folder = await record_session(pages.server, frames=30)
    forged_id = folder.name[:-8] + "0badc0de"
    forged = folder.parent / forged_id
    shutil.copytree(folder, forged)
    manifest = json.loads((folder / "manifest.json").read_text())
    (forged / "manifest.json").write_text(json.dumps({**manifest, "session_id": forged_id}))
    (forged / "manifest.sig").unlink()
    # The list is the register's index: a folder planted behind the server's back
    # is found by the backfill a start runs (run here, as a restart would).
    assert await asyncio.to_thread(pages.server.app[K.RECORDINGS].backfill) == 1

    page = await pages.sign_in("/cases", "supervisor")
    row = page.locator(f'tr[data-session="{forged_id}"]')
    await expect(row.locator(".case-unsigned")).to_have_text("未签名")
    await expect(page.locator(f'tr[data-session="{folder.name}"] .case-unsigned')).to_have_count(0)
    await row.locator("a.case-link").click()
    await page.wait_for_url(f"**/cases/{forged_id}")
    await expect(page.locator("#replay-error")).to_contain_text("没有有效签名")
    await expect(page.locator("video.player-video")).to_have_count(0)
