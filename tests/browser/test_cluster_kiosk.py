"""The kiosk page in Chromium when the process carrying its call dies: two real
server processes (tests/cluster); the kiosk's page is served by A, the reviewer
(an aiortc peer) is on B, where the call lives. kill -9 of B: the page is back
in line, first, told in plain words it was a server fault, not theirs."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from playwright.async_api import Browser, expect

from server.bench.driver import Peer
from server.bench.source import vp8_clip
from tests.browser.conftest import TIMEOUT_MS, VIEWPORT, kiosk_join
from tests.cluster.helpers import CLUSTER_ENV, desk
from tests.cluster.test_two_processes import two_processes


async def test_kiosk_told_in_plain_words_when_the_call_process_dies(
    tmp_path: Path, browser: Browser
) -> None:
    with two_processes(tmp_path, CLUSTER_ENV) as cluster:
        acc = cluster.accounts
        context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        peer = Peer(vp8_clip(160, 120, 150_000, 30))
        async with AsyncExitStack() as stack:
            stack.push_async_callback(context.close)
            stack.push_async_callback(peer.close)
            page = await context.new_page()
            await page.goto(f"{cluster.a.url}/kiosk?token={acc.kiosks[0]}")
            await kiosk_join(page)
            await expect(page.locator("#place")).to_have_text("1")
            d = await desk(stack, cluster.b, acc.reviewers[0], acc.password)
            await d.send({"type": "desk.call_next"})
            await d.expect("session.paired", timeout=30)
            await peer.negotiate(d)
            await expect(page.locator('section[data-screen="call"]')).to_be_visible()
            await expect(page.locator("#call-status")).to_have_text("已接通", timeout=30_000)

            cluster.b.kill9()
            waiting = page.locator('section[data-screen="waiting"]')
            await expect(waiting).to_be_visible(timeout=30_000)
            await expect(page.locator("#waiting-note")).to_have_text(
                "通话因服务器故障中断，这不是您的问题。正在为您重新排队，您仍排在最前面。",
                timeout=30_000,
            )
            await expect(page.locator("#place")).to_have_text("1")
