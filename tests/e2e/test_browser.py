"""The page in headless Chromium: declare, react to acknowledge, post an update, screenshot."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from crisisbot.sandbox import Sandbox

CHROMIUM = Path("/usr/bin/chromium")
DOCS = Path(__file__).resolve().parents[2] / "docs"
# Debian's chromium, kept off the network: nothing is downloaded, nothing phones home.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)"
)
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)", allow_module_level=True)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(run_scheduler=False, database_url=f"sqlite:///{tmp_path / 'b.db'}") as running:
        yield running


def test_declare_acknowledge_and_update_in_the_page(live: Sandbox, tmp_path: Path) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(live.url)
            page.click('.person[data-user="U0ANA"]')
            page.wait_for_selector('.person[data-user="U0ANA"][aria-selected="true"]')

            composer = page.locator("#composer-input")
            composer.fill("/crisis new Acme Corp: dashboards empty since 09:10 sev1")
            composer.press("Enter")
            crisis = page.locator("#crisis-channels [data-channel]").first
            crisis.wait_for()
            crisis.click()
            page.wait_for_selector("text=Not acknowledged yet")
            page.wait_for_selector("#pins .pin")
            assert "Next update to Acme Corp by" in page.locator("#pins").inner_text()

            card = page.locator(".message", has=page.locator(".bk-header")).first
            card.hover()
            card.locator('[data-react="eyes"]').click()
            page.wait_for_selector("text=Acknowledged by")
            assert card.locator('.reaction[data-reaction="eyes"]').is_visible()

            composer.fill("/crisis update Root cause found: a bad deploy; rolling back now")
            composer.press("Enter")
            page.wait_for_selector("text=Root cause found: a bad deploy")
            page.mouse.move(0, 0)
            page.wait_for_timeout(300)  # let the new-message highlight settle for the picture

            shot = tmp_path / "sandbox.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000  # a real picture, not a blank page
            if os.environ.get("CRISISBOT_SCREENSHOT"):  # `make screenshot` refreshes the README's
                DOCS.mkdir(exist_ok=True)
                shutil.copyfile(shot, DOCS / "sandbox.png")
            assert errors == []
        finally:
            browser.close()
