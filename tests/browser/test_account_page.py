"""The account page in a browser: a new account is sent to it and changes its
password before anything else; the idle warning's "stay signed in"; a secadmin
enrols TOTP from the QR page when config requires it (code made by pyotp)."""

from __future__ import annotations

import pyotp
import pytest
from playwright.async_api import expect

from server import appkeys as K
from tests.api.accounts_helpers import call, use_clock
from tests.browser.conftest import Pages, shot

pytestmark = pytest.mark.browser


async def test_first_sign_in_changes_the_password_then_goes_home(pages: Pages) -> None:
    admin, csrf = await pages.server.http("admin")
    body = {"username": "newcomer", "password": "Temp-pass-0001", "role": "supervisor"}
    assert (await call(admin, "POST", "/api/admin/users", csrf, body))[0] == 201
    page = await pages.open("/login?next=/cases")
    await page.fill("#username", "newcomer")
    await page.fill("#password", "Temp-pass-0001")
    await page.click("#login-submit")
    await page.wait_for_url("**/account")
    await expect(page.locator("#restricted")).to_be_visible()
    await page.goto(pages.server.url + "/cases")  # nothing else opens
    await page.wait_for_url("**/account")
    await page.fill("#old-password", "Temp-pass-0001")
    await page.fill("#new-password", "short")
    await page.fill("#new-password2", "short")
    await page.click("#password-submit")
    await expect(page.locator("#password-message")).to_have_text("密码太短：至少 12 位。")
    await page.fill("#new-password", "Newcomer-own-9")
    await page.fill("#new-password2", "Newcomer-own-9")
    await page.click("#password-submit")
    await expect(page.locator("#password-message")).to_have_text("密码不能包含用户名。")
    await page.fill("#new-password", "My-own-pass-99")
    await page.fill("#new-password2", "My-own-pass-99")
    await shot(page, "account-forced-change")
    await page.click("#password-submit")
    await page.wait_for_url("**/cases")
    assert not pages.problems, pages.problems


async def test_the_idle_warning_offers_to_stay_signed_in(pages: Pages) -> None:
    clock = use_clock(pages.server)
    page = await pages.sign_in("/cases", "supervisor")
    await expect(page.locator("h1")).to_have_text("办理案卷")  # signed in, on the page
    await expect(page.locator("[data-account-link]")).to_be_visible()
    # The page's own data requests are activity: one answered after the clock moves
    # would restart the idle time, so they must all be done first.
    await page.wait_for_load_state("networkidle")
    clock.advance(14 * 60)
    await page.evaluate("window.dispatchEvent(new Event('focus'))")  # asks at once
    warning = page.locator("#idle-warning")
    await expect(warning).to_be_visible()
    await expect(page.locator("#idle-warning-text")).to_contain_text("秒后自动退出登录")
    await shot(page, "idle-warning")
    await page.click("#idle-stay")
    await expect(warning).to_be_hidden()
    clock.advance(16 * 60)
    await page.evaluate("window.dispatchEvent(new Event('focus'))")
    await page.wait_for_url("**/login?next=%2Fcases")
    assert not pages.problems, pages.problems


async def test_a_security_admin_enrols_totp_from_the_qr_page(pages: Pages) -> None:
    auth = pages.server.app[K.AUTH]
    auth.cfg = type(auth.cfg)(**{**auth.cfg.__dict__, "totp_required_roles": ["secadmin"]})
    page = await pages.open("/login")
    await page.fill("#username", "secadmin")
    await page.fill("#password", "test-pass-2026")
    await page.click("#login-submit")
    await page.wait_for_url("**/account")
    await expect(page.locator('#restricted[data-restricted="totp"]')).to_be_visible()
    await page.click("#totp-start")
    await expect(page.locator("#totp-qr")).to_be_visible()
    secret = await page.locator("#totp-secret").inner_text()
    await page.fill("#totp-code", pyotp.TOTP(secret).now())
    await shot(page, "account-totp")
    await page.click("#totp-confirm")
    await page.wait_for_url("**/security")
    await expect(page.locator('#roles-table tr[data-username="reviewer"]')).to_be_visible()
    assert not pages.problems, pages.problems
