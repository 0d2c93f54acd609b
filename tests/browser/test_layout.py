"""Layout of every page, measured in the real rendered page (getBoundingClientRect)
at a 1280x800 kiosk/desktop screen, a 1080x1920 portrait kiosk and a 390x844 phone:
nothing wider than the viewport, no text squeezed to fewer than two characters a
line, every button, link and checkbox at least 44x44 px, and on the kiosk the main
action and its confirm dialogs on screen without scrolling.

Screenshots of each page and state go to /tmp/shots/layout/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.api.test_archive_routes import record_session
from tests.api.test_case_api import BASE, NEW, _post, _signed_in
from tests.browser.conftest import Pages
from tests.browser.test_async_case import FAKE_DOC_CAMERA
from tests.unit.doc_images import jpeg

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/layout")
DESKTOP = {"width": 1280, "height": 800}
PORTRAIT = {"width": 1080, "height": 1920}
PHONE = {"width": 390, "height": 844}
ENGLISH = 'localStorage.setItem("rw_lang", "en");'


@dataclass(frozen=True)
class Screen:
    name: str
    viewport: dict
    init_script: str | None = None  # English: the language choice in local storage


SCREENS = [
    Screen("desktop", DESKTOP),
    Screen("portrait", PORTRAIT),
    Screen("phone", PHONE),
    # English words are longer: the kiosk screen and the narrowest one in English too.
    Screen("desktop-en", DESKTOP, ENGLISH),
    Screen("phone-en", PHONE, ENGLISH),
]
MIN_TARGET = 44

# Function strings only: a bare expression makes Playwright eval(), which the CSP forbids.
# Returns a list of problems, each naming the element.
MEASURE_JS = """(minTarget) => {
  const vw = document.documentElement.clientWidth;
  const problems = [];
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    const cls = typeof el.className === "string" ? el.className.trim() : "";
    if (cls) s += "." + cls.split(/\\s+/).join(".");
    const text = (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 24);
    return text ? `${s} "${text}"` : s;
  };
  const shown = (el) => {
    if (!el.checkVisibility({ visibilityProperty: true })) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const lines = (node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  };
  if (document.documentElement.scrollWidth > vw) {
    problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${vw}`);
  }
  for (const el of document.body.querySelectorAll("*")) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.left < -0.5 || r.right > vw + 0.5) {
      const x = `${Math.round(r.left)}..${Math.round(r.right)}`;
      problems.push(`outside the viewport: ${name(el)} x ${x}`);
    }
    const texts = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim());
    if (texts.length) {
      const fs = parseFloat(getComputedStyle(el).fontSize);
      // Squeezed: narrower than two characters and wrapping (a text on one line is
      // as wide as it needs).
      const wraps = texts.some((n) => lines(n) > 1);
      if (r.width < 2 * fs - 0.5 && wraps) {
        const w = Math.round(r.width);
        problems.push(`text narrower than two characters: ${name(el)} ${w}px at ${fs}px`);
      }
    }
  }
  const targets = "button, a[href], input:not([type=hidden]), select, textarea, summary";
  for (const el of document.body.querySelectorAll(targets)) {
    if (!shown(el)) continue;
    // A checkbox or radio inside its <label>: the label is the target (it toggles it).
    const box = el.matches("[type=checkbox], [type=radio]") && el.closest("label");
    const r = (box || el).getBoundingClientRect();
    if (r.width < minTarget - 0.5 || r.height < minTarget - 0.5) {
      const size = `${Math.round(r.width)}x${Math.round(r.height)}`;
      problems.push(`target under ${minTarget}px: ${name(box || el)} ${size}`);
    }
  }
  return problems;
}"""

# Problems for elements (by selector) not fully inside the viewport as it is scrolled now.
IN_VIEW_JS = """(selectors) => {
  const out = [];
  for (const sel of selectors) {
    const els = [...document.querySelectorAll(sel)].filter((e) => e.checkVisibility());
    if (!els.length) out.push(`not shown: ${sel}`);
    for (const el of els) {
      const r = el.getBoundingClientRect();
      const out_x = r.left < -0.5 || r.right > innerWidth + 0.5;
      if (out_x || r.top < -0.5 || r.bottom > innerHeight + 0.5) {
        const box = [r.left, r.top, r.right, r.bottom].map(Math.round).join(",");
        out.push(`${sel} not in view: ${box} of ${innerWidth}x${innerHeight}`);
      }
    }
  }
  return out;
}"""

# How far down the viewport the shown screen's content reaches (0..1).
FILLED_JS = """() => {
  const screen = [...document.querySelectorAll("section.screen")].find((s) => !s.hidden);
  let bottom = 0;
  for (const el of screen.querySelectorAll("*")) {
    if (el.checkVisibility()) bottom = Math.max(bottom, el.getBoundingClientRect().bottom);
  }
  return bottom / innerHeight;
}"""

# Contrast ratio (WCAG) of each timeline marker's visible mark against what is behind it.
MARKER_CONTRAST_JS = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const opaque = (c) => c.length < 4 || c[3] > 0;
  const behind = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (opaque(c)) return c;
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(".tl-event")].map((m) => {
    const before = rgb(getComputedStyle(m, "::before").backgroundColor);
    const fill = opaque(before) ? before : rgb(getComputedStyle(m).backgroundColor);
    const [hi, lo] = [lum(fill), lum(behind(m.parentElement))].sort((a, b) => b - a);
    return (hi + 0.05) / (lo + 0.05);
  });
}"""
MIN_CONTRAST = 4.5


async def measure(page: Page, label: str) -> list[str]:
    """Save a screenshot, then return the page's layout problems, prefixed with label."""
    await page.screenshot(path=str(SHOTS / f"{label}.png"), full_page=True)
    problems = await page.evaluate(MEASURE_JS, MIN_TARGET)
    return [f"{label}: {p}" for p in problems]


async def in_view(page: Page, label: str, *selectors: str) -> list[str]:
    return [f"{label}: {p}" for p in await page.evaluate(IN_VIEW_JS, list(selectors))]


ITEMS_ACTIONS = (".item-btn:not([hidden])", "#page-next", "#page-prev")


async def kiosk_states(pages: Pages, screen: Screen) -> list[str]:
    """Choosing an item, waiting in line with the leave dialog, in a call with the end dialog."""
    view = screen.name
    page = await pages.kiosk("kiosk-1", viewport=screen.viewport, init_script=screen.init_script)
    problems = await measure(page, f"{view}-kiosk-items")
    whole_screen = screen.viewport is not PHONE
    if whole_screen:
        problems += await in_view(page, f"{view}-kiosk-items", *ITEMS_ACTIONS)
    if screen.viewport is PORTRAIT and (filled := await page.evaluate(FILLED_JS)) < 0.8:
        problems.append(f"{view}-kiosk-items: content ends at {filled:.0%} of the height")

    await page.click('.item-btn[data-item="SCJG-001"]')
    await page.click('[data-priority="normal"]')
    await page.click("#notice-confirm")
    await expect(page.locator("#place")).to_have_text("1")
    label = f"{view}-kiosk-waiting"
    problems += await measure(page, label)
    if whole_screen:
        problems += await in_view(page, label, "#place-box", "#leave")
    if screen.viewport is PORTRAIT and (filled := await page.evaluate(FILLED_JS)) < 0.8:
        problems.append(f"{label}: content ends at {filled:.0%} of the height")
    # Pressed where it is: a person does not scroll first.
    await page.locator("#leave").dispatch_event("click")
    await expect(page.locator("#leave-confirm")).to_be_visible()
    problems += await measure(page, f"{label}-confirm")
    problems += await in_view(page, f"{label}-confirm", "#leave-confirm", "#leave-yes", "#leave-no")
    await page.locator("#leave-no").dispatch_event("click")
    await expect(page.locator("#leave-confirm")).to_be_hidden()

    reviewer = await pages.server.staff("reviewer")
    await reviewer.send({"type": "desk.call_next"})
    await expect(page.locator('section[data-screen="call"]')).to_be_visible()
    label = f"{view}-kiosk-call"
    problems += await measure(page, label)
    problems += await in_view(page, label, "#end-call", "#toggle-audio", "#toggle-video")
    await page.locator("#end-call").dispatch_event("click")
    await expect(page.locator("#end-confirm")).to_be_visible()
    problems += await measure(page, f"{label}-confirm")
    problems += await in_view(page, f"{label}-confirm", "#end-confirm", "#end-yes", "#end-no")
    return problems


async def desk_states(pages: Pages, screen: Screen) -> list[str]:
    """The signed-in desk: its queues with someone waiting, then in a call."""
    view = screen.name
    kiosk = await pages.server.kiosk("kiosk-1")
    await kiosk.send({"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True})
    await kiosk.expect("queue.status")
    page = await pages.desk("reviewer", viewport=screen.viewport, init_script=screen.init_script)
    await expect(page.locator("#call-next")).to_be_enabled()
    problems = await measure(page, f"{view}-desk")
    await page.click("#call-next")
    await expect(page.locator("#call-view")).to_be_visible()
    await expect(page.locator("#call-item")).not_to_be_empty()
    problems += await measure(page, f"{view}-desk-call")
    return problems


async def archive_states(pages: Pages, screen: Screen) -> list[str]:
    """/cases with one recorded case, then its replay page."""
    view = screen.name
    folder = await record_session(pages.server, frames=45)
    page = await pages.sign_in(
        "/cases", "supervisor", viewport=screen.viewport, init_script=screen.init_script
    )
    await expect(page.locator(f'tr[data-session="{folder.name}"] a.case-link')).to_be_visible()
    problems = await measure(page, f"{view}-cases")
    await page.click(f'tr[data-session="{folder.name}"] a.case-link')
    await page.wait_for_url(f"**/cases/{folder.name}")
    await expect(page.locator(".tl-event").first).to_be_visible()
    await page.check("#show-tech")
    problems += await measure(page, f"{view}-replay")
    ratios = await page.evaluate(MARKER_CONTRAST_JS)
    assert ratios, "no timeline markers"
    problems += [
        f"{view}-replay: timeline marker contrast {r:.1f}:1 < {MIN_CONTRAST}:1"
        for r in ratios
        if r < MIN_CONTRAST
    ]
    return problems


async def admin_state(pages: Pages, screen: Screen) -> list[str]:
    page = await pages.sign_in(
        "/admin", "admin", viewport=screen.viewport, init_script=screen.init_script
    )
    await expect(page.locator('#users-rows tr[data-username="reviewer"]')).to_be_visible()
    return await measure(page, f"{screen.name}-admin")


async def supervision_state(pages: Pages, screen: Screen) -> list[str]:
    """The supervisors' dashboard with someone waiting and a session on (旁听 button)."""
    await pages.server.pair("kiosk-1")
    waiting = await pages.server.kiosk("kiosk-2")
    await waiting.send({"type": "queue.join", "item": "SCJG-001", "recording_notice_shown": True})
    await waiting.expect("queue.status")
    page = await pages.sign_in(
        "/supervision", "supervisor", viewport=screen.viewport, init_script=screen.init_script
    )
    await expect(page.locator("#sv-sessions button.observe-btn")).to_be_visible()
    await expect(page.locator("#t-waiting")).to_have_text("1")
    return await measure(page, f"{screen.name}-supervision")


async def login_state(pages: Pages, screen: Screen) -> list[str]:
    page = await pages.open("/login", viewport=screen.viewport, init_script=screen.init_script)
    await expect(page.locator("#login-form")).to_be_visible()
    return await measure(page, f"{screen.name}-login")


async def asked_case(pages: Pages) -> str:
    """A case received at the agent's place with a page, then asked for more."""
    agent = await _signed_in(pages.server, "agent")
    reviewer = await _signed_in(pages.server, "reviewer")
    number = (await _post(agent, BASE, NEW))[1]["number"]
    async with agent[0].post(
        f"{BASE}/{number}/documents",
        params={"material": "经营者身份证明", "source": "upload"},
        data=jpeg(320, 240),
        headers=agent[1],
    ) as resp:
        assert resp.status == 201, await resp.text()
    assert (await _post(reviewer, f"{BASE}/{number}/transition", {"to": "in_review"}))[0] == 200
    asked = {"to": "more_materials_requested", "reason": "请补拍经营场所使用证明。"}
    assert (await _post(reviewer, f"{BASE}/{number}/transition", asked))[0] == 200
    return number


async def counter_states(pages: Pages, screen: Screen) -> list[str]:
    """The agent's counter page and a case page: the agent's (camera open) and the reviewer's."""
    view = screen.name
    number = await asked_case(pages)
    script = (screen.init_script or "") + FAKE_DOC_CAMERA
    agent = await pages.sign_in("/agent", "agent", viewport=screen.viewport, init_script=script)
    await expect(agent.locator(f'#my-rows tr[data-case="{number}"] .asked')).to_be_visible()
    problems = await measure(agent, f"{view}-agent")
    await agent.goto(f"{pages.server.url}/case/{number}")
    await expect(agent.locator("#request-banner")).to_be_visible()
    await agent.click("#cam-open")
    await expect(agent.locator("button.shoot").first).to_be_enabled()
    problems += await measure(agent, f"{view}-case-agent")
    reviewer = await pages.sign_in(
        f"/case/{number}", "reviewer", viewport=screen.viewport, init_script=screen.init_script
    )
    await expect(reviewer.locator("#decision-panel")).to_be_visible()
    await expect(reviewer.locator("li.page")).to_have_count(1)
    problems += await measure(reviewer, f"{view}-case-reviewer")
    return problems


async def village_states(pages: Pages, screen: Screen) -> list[str]:
    """乡村随身办: the village agent's page (its form, then its points) and the
    township admin's ledger."""
    view, script = screen.name, screen.init_script
    agent = await pages.sign_in("/village", "agent", viewport=screen.viewport, init_script=script)
    await expect(agent.locator("#vs-form")).to_be_visible()
    problems = await measure(agent, f"{view}-village")
    await agent.click('.v-tab[data-tab="points"]')
    await expect(agent.locator("#pt-total")).to_be_visible()
    problems += await measure(agent, f"{view}-village-points")
    admin = await pages.sign_in("/points", "township", viewport=screen.viewport, init_script=script)
    await admin.wait_for_selector("body[data-ready]", state="attached")
    await expect(admin.locator("#pt-confirm")).to_be_visible()
    return problems + await measure(admin, f"{view}-points")


STATES = {
    "kiosk": kiosk_states,
    "counter": counter_states,
    "desk": desk_states,
    "archive": archive_states,
    "admin": admin_state,
    "supervision": supervision_state,
    "village": village_states,
    "login": login_state,
}


@pytest.mark.parametrize("screen", SCREENS, ids=[s.name for s in SCREENS])
@pytest.mark.parametrize("where", list(STATES))
async def test_layout_fits_the_screen(pages: Pages, where: str, screen: Screen) -> None:
    problems = await STATES[where](pages, screen)
    assert not problems, "\n".join(problems)
