"""Browser fixtures: Debian's Chromium driven by Playwright, against the real server
of tests/conftest.py (`running`).

Set RW_SHOTS=/some/dir to save screenshots of the pages the tests pass through.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.conftest import PASSWORD, RunningServer

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-sandbox",
    "--autoplay-policy=no-user-gesture-required",  # replay plays without a click
]
TIMEOUT_MS = 15_000
VIEWPORT = {"width": 1280, "height": 1000}
SHOTS = os.environ.get("RW_SHOTS")
HAVE_CHROMIUM = Path(CHROMIUM).exists()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """One Chromium per test (about a second to start): the `running` server fixture
    is function-scoped, so the browser shares each test's own event loop."""
    assert HAVE_CHROMIUM, f"no Chromium at {CHROMIUM}: apt-get install chromium (./dev does)"
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@dataclass
class Pages:
    """Contexts opened by a test, with the page errors they reported."""

    browser: Browser
    server: RunningServer
    contexts: list[BrowserContext] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    async def open(
        self, path: str, *, init_script: str | None = None, viewport: dict | None = None
    ) -> Page:
        context = await self.browser.new_context(viewport=viewport or VIEWPORT, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        if init_script:
            await context.add_init_script(init_script)
        self.contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda exc: self.problems.append(f"pageerror: {exc}"))
        page.on("console", self._console)
        await page.goto(self.server.url + path)
        return page

    def _console(self, msg) -> None:  # type: ignore[no-untyped-def]
        text = msg.text
        if msg.type == "error" and ("Content Security Policy" in text or "SyntaxError" in text):
            self.problems.append(f"console: {text}")

    async def kiosk(
        self, name: str, *, init_script: str | None = None, viewport: dict | None = None
    ) -> Page:
        page = await self.open(
            f"/kiosk?token={self.server.kiosk_tokens[name]}",
            init_script=init_script,
            viewport=viewport,
        )
        await expect(page.locator('section[data-screen="items"]')).to_be_visible()
        return page

    async def sign_in(
        self,
        path: str,
        username: str,
        *,
        init_script: str | None = None,
        viewport: dict | None = None,
    ) -> Page:
        """Open path, get sent to the real login page, sign in and land on path."""
        page = await self.open(path, init_script=init_script, viewport=viewport)
        await page.wait_for_url(f"**/login?next={path}")
        await page.fill("#username", username)
        await page.fill("#password", PASSWORD)
        await page.click("#login-submit")
        await page.wait_for_url(f"**{path}")
        return page

    async def desk(
        self,
        username: str = "reviewer",
        *,
        init_script: str | None = None,
        viewport: dict | None = None,
    ) -> Page:
        """Sign in through the real login page and land on the desk."""
        page = await self.sign_in("/desk", username, init_script=init_script, viewport=viewport)
        await expect(page.locator("#queue-view")).to_be_visible()
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest.fixture
async def pages(browser: Browser, running: RunningServer) -> AsyncIterator[Pages]:
    opened = Pages(browser, running)
    try:
        yield opened
    finally:
        await opened.close()
    assert not opened.problems, opened.problems


async def shot(page: Page, name: str) -> None:
    """Save a screenshot when RW_SHOTS names a folder."""
    if SHOTS:
        # Playwright creates the folder.
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def kiosk_join(
    page: Page, item: str = "SCJG-001", priority: str = "normal", *, shots: str = ""
) -> None:
    """Step 1 item, step 2 priority, step 3 the recording notice, then the waiting screen."""
    await page.click(f'.item-btn[data-item="{item}"]')
    await expect(page.locator('section[data-screen="priority"]')).to_be_visible()
    if shots:
        await shot(page, f"{shots}-priority")
    await page.click(f'[data-priority="{priority}"]')
    notice = page.locator("#notice-box")
    await expect(notice).to_be_visible()
    await expect(notice).to_contain_text("本次办理全程录音录像")
    if shots:
        await shot(page, f"{shots}-notice")
    await page.click("#notice-confirm")
    await expect(page.locator('section[data-screen="waiting"]')).to_be_visible()
