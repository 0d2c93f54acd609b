"""`remote-window bench-capture`: document-camera still capture time, from the
reviewer's click on 拍摄 to the page shown (decoded) in the desk's checklist.

A real server process (server_proc), a kiosk and a desk in headless Chromium
(Playwright; the kiosk gets the two fake cameras of fake_cameras.js: a
1920x1080 document camera), a live call, a case received in it, then `--pages`
captures one after another. The desk measures each (window.rwCaptureTimes,
desk_capture.js); this prints the median and the 90th percentile. The path
timed: doc.capture over the socket, the server's checks, doc.take to the
kiosk, the full-resolution still and its JPEG, the upload (hash, case
folder, register), doc.stored to the desk, the page fetched and decoded.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import tempfile
from pathlib import Path
from typing import Any

from server.bench.server_proc import BENCH_ITEM, seeded, spawn

CHROMIUM = "/usr/lib/chromium/chromium"
ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-gpu",
    "--disable-quic",
    "--no-sandbox",
    "--autoplay-policy=no-user-gesture-required",
]
FAKE_CAMERAS = Path(__file__).with_name("fake_cameras.js")
# A valid resident ID number (check digit included) for the bench's case.
APPLICANT_ID = "11010519491231002X"
TIMEOUT_MS = 30_000


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pages", type=int, default=10, help="captures to time (default 10)")
    p.add_argument("--chromium", default=CHROMIUM, help=f"Chromium binary (default {CHROMIUM})")
    p.add_argument("--data-dir", help="keep the server's data here (default: a temp dir)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation between the sorted values."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


async def _measure(url: str, accounts: dict[str, Any], pages: int, chromium: str) -> list[float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        try:
            kiosk_ctx = await browser.new_context(locale="zh-CN")
            await kiosk_ctx.add_init_script(FAKE_CAMERAS.read_text())
            await kiosk_ctx.add_init_script("localStorage.setItem('rw_doc_camera', 'doc-cam')")
            kiosk = await kiosk_ctx.new_page()
            kiosk.set_default_timeout(TIMEOUT_MS)
            await kiosk.goto(f"{url}/kiosk?token={accounts['kiosks'][0]}")
            await kiosk.click(f'.item-btn[data-item="{BENCH_ITEM}"]')
            await kiosk.click('[data-priority="normal"]')
            await kiosk.click("#notice-confirm")
            await kiosk.wait_for_selector('section[data-screen="waiting"]')

            desk_ctx = await browser.new_context(locale="zh-CN")
            login = {"username": accounts["reviewers"][0], "password": accounts["password"]}
            resp = await desk_ctx.request.post(f"{url}/api/login", data=login)
            if not resp.ok:
                raise RuntimeError(f"reviewer login: HTTP {resp.status}")
            desk = await desk_ctx.new_page()
            desk.set_default_timeout(TIMEOUT_MS)
            await desk.goto(f"{url}/desk")
            await desk.wait_for_function("() => !document.querySelector('#call-next').disabled")
            await desk.click("#call-next")
            await desk.wait_for_function(
                "() => document.querySelector('#doc-video').videoWidth > 0", timeout=TIMEOUT_MS
            )
            await desk.fill("#case-applicant-name", "测试")
            await desk.fill("#case-applicant-id", APPLICANT_ID)
            await desk.click("#case-create-btn")
            await desk.wait_for_selector("#case-linked:not([hidden])")
            materials = await desk.eval_on_selector_all(
                "#capture-material option", "(os) => os.map((o) => o.value)"
            )
            for n in range(1, pages + 1):
                await kiosk.evaluate("(n) => window.__docCam.setPage(n)", n)
                await desk.select_option("#capture-material", materials[(n - 1) % len(materials)])
                await desk.wait_for_function(
                    "() => !document.querySelector('#capture-btn').disabled"
                )
                await desk.click("#capture-btn")
                await desk.wait_for_function(
                    "(n) => window.rwCaptureTimes.length >= n", arg=n, timeout=TIMEOUT_MS
                )
            times = await desk.evaluate("window.rwCaptureTimes")
            method = await kiosk.evaluate("window.rwDocCamera.lastMethod")
            size = await desk.evaluate(
                "() => [document.querySelector('#doc-video').videoWidth,"
                " document.querySelector('#doc-video').videoHeight]"
            )
            print(f"still by {method}; document camera received at {size[0]}x{size[1]}")
            parts = await kiosk.evaluate("window.rwDocTimings")
            if parts:
                still = statistics.median(p["still_ms"] for p in parts)
                upload = statistics.median(p["upload_ms"] for p in parts)
                size_kb = statistics.median(p["bytes"] for p in parts) / 1024
                print(
                    f"on the kiosk (median): still (grab + JPEG) {still:.0f} ms, "
                    f"upload {upload:.0f} ms, {size_kb:.0f} KiB per page"
                )
            return [float(t) for t in times]
        finally:
            await browser.close()


async def _run(pages: int, chromium: str, data_dir: Path) -> list[float]:
    port = _free_port()
    proc = await spawn(data_dir, port, 1)
    try:
        return await _measure(f"http://127.0.0.1:{port}", seeded(data_dir), pages, chromium)
    finally:
        proc.terminate()
        await proc.wait()


def run_bench(args: argparse.Namespace) -> int:
    try:
        import playwright  # noqa: F401
    except ImportError:
        print(
            "error: bench-capture needs Playwright (pip install -e '.[test]') and Chromium",
            flush=True,
        )
        return 2
    if not Path(args.chromium).exists():
        print(f"error: no Chromium at {args.chromium} (apt-get install chromium, or --chromium)")
        return 2
    if args.pages < 1:
        print("error: --pages must be at least 1")
        return 2
    keep = args.data_dir is not None
    data_dir = Path(args.data_dir) if keep else Path(tempfile.mkdtemp(prefix="rw-capture-"))
    try:
        times = asyncio.run(_run(args.pages, args.chromium, data_dir))
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(
        f"capture, click to shown on the desk, {len(times)} pages: "
        f"median {statistics.median(times):.0f} ms, p90 {percentile(times, 0.9):.0f} ms "
        f"(min {min(times):.0f}, max {max(times):.0f})"
    )
    print("each (ms): " + " ".join(f"{t:.0f}" for t in times))
    return 0
