"""The status page in a real headless Chromium, served by a real ``sorawatch run``.

A channel of the simulator fails while the page is open; the row must change without a reload.
Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped, saying so, where there is none.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest
from tests.helpers import channel_yaml, config_yaml, running_sim, start_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium on this machine (Debian package `chromium`)"
)

SCENARIO = """
name: browser-test
channels:
  alpha: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
  beta: {protocol: openai-videos, models: [sora-2], latency_ms: 1}
"""


async def read_url(stream: asyncio.StreamReader) -> str:
    while True:
        line = (await asyncio.wait_for(stream.readline(), 30)).decode()
        assert line, "sorawatch run ended before serving the page"
        if m := re.search(r"status page on (http://\S+?)/?\s*$", line):
            return m.group(1)


async def test_page_shows_a_status_change_without_reload(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    async with running_sim(tmp_path, SCENARIO) as sim:
        cfg = tmp_path / "sorawatch.yaml"
        chans = [channel_yaml(sim, "alpha", every="0.3s"), channel_yaml(sim, "beta", every="0.3s")]
        text = config_yaml(sim, f"sqlite:///{tmp_path / 'sw.db'}", chans)
        text = text.replace(
            'web: {listen: "127.0.0.1:0"}', 'web: {listen: "127.0.0.1:0", page_refresh: 1s}'
        )
        cfg.write_text(text, encoding="utf-8")
        proc = await start_run(cfg, columns=300)
        try:
            assert proc.stdout is not None
            url = await read_url(proc.stdout)
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
                )
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                await page.goto(url + "/")
                row = page.locator('tr[data-channel="beta"]')
                await row.wait_for()
                # the first probes confirm operational; the page catches up on its own
                await page.wait_for_selector(
                    'tr[data-channel="beta"][data-status="operational"]', timeout=20_000
                )
                await page.evaluate("window.__noReload = 'still here'")

                sim.set_fault("beta", "paused")
                await page.wait_for_selector(
                    'tr[data-channel="beta"][data-status="suspended"]', timeout=30_000
                )
                assert await page.evaluate("window.__noReload") == "still here"
                assert "Suspended" in await row.inner_text()
                assert await page.locator("h2", has_text="Open incidents").count() == 1
                await page.screenshot(path=str(tmp_path / "status-page.png"), full_page=True)

                # and it stays readable in a phone-sized window
                await page.set_viewport_size({"width": 390, "height": 844})
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= 400, f"the page scrolls sideways on a phone ({width}px)"
                await page.screenshot(path=str(tmp_path / "status-page-phone.png"))
                await browser.close()
            assert (tmp_path / "status-page.png").stat().st_size > 10_000
        finally:
            proc.terminate()
            _, err = await asyncio.wait_for(proc.communicate(), 20)
        assert "Traceback" not in err.decode(), err.decode()
