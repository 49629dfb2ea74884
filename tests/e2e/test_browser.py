"""The page in headless Chromium: a crisis end to end, the layout at desktop and phone sizes,
Slack's mrkdwn, the bot DM's unread marker and external people in pickers.

Screenshots go to each test's tmp_path (and are checked there); only `make screenshot`
(CRISISBOT_SCREENSHOT=1) copies the first test's picture to docs/sandbox.png.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.db.models import Crisis
from crisisbot.sandbox import BOT_TOKEN, Sandbox

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def errors() -> list[str]:
    """The page's uncaught JavaScript errors, filled by `open_page`."""
    return []


def open_page(browser: Any, errors: list[str], url: str, width: int, height: int) -> Any:
    """A fresh tab (own storage) of `width`×`height` on `url`."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page


def picture(page: Any, path: Path) -> Path:
    """Screenshot the viewport to `path` and check it is a real picture of that size."""
    page.screenshot(path=str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    size = page.viewport_size
    assert struct.unpack(">II", data[16:24]) == (size["width"], size["height"])
    assert len(data) > 10_000  # not a blank page
    return path


def inside_viewport(page: Any, selector: str) -> bool:
    """True when the element is shown whole, without scrolling the page."""
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return bool(
        box
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"] + 0.5
        and box["y"] + box["height"] <= size["height"] + 0.5
    )


def scrolled_to_newest(page: Any) -> bool:
    gap = page.evaluate(
        "() => { const box = document.getElementById('messages');"
        " return box.scrollHeight - box.scrollTop - box.clientHeight; }"
    )
    return bool(gap <= 2)


def chatter(sandbox: Sandbox, count: int, channel: str = "C0GENERAL") -> None:
    """`count` messages from people, the last one saying it is the newest."""
    people = ["U0ANA", "U0BEN", "U0CHEN", "U0DANA"]
    for n in range(1, count + 1):
        text = f"Message {n}: checking in on the Acme rollout"
        if n % 7 == 0:
            text += "\nwith a second line\nand a third"
        if n == count:
            text = f"Message {n}: the newest one"
        sandbox.emulator.post_as_user(people[n % len(people)], channel, text)


def bot(sandbox: Sandbox) -> WebClient:
    return WebClient(base_url=sandbox.emulator.api_url, token=BOT_TOKEN)


def test_declare_acknowledge_and_update_in_the_page(
    live: Sandbox, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, live.url, 1440, 900)
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
    page.wait_for_timeout(1600)  # let the new-message highlight fade for the picture
    assert inside_viewport(page, "#composer") and scrolled_to_newest(page)

    shot = picture(page, tmp_path / "sandbox.png")
    if os.environ.get("CRISISBOT_SCREENSHOT"):  # `make screenshot` refreshes the README's
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS / "sandbox.png")
    assert errors == []


def test_declare_from_the_customer_type_ahead(
    live: Sandbox, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{live.url}#U0ANA/C0GENERAL", 1280, 800)
    page.wait_for_selector('.person[data-user="U0ANA"][aria-selected="true"]')
    composer = page.locator("#composer-input")
    composer.fill("/crisis new")
    composer.press("Enter")
    page.wait_for_selector(".modal")
    customer = page.locator('.modal [data-block-id="customer"] [role="combobox"]')
    options = page.locator('.modal [data-block-id="customer"] [role="option"]')
    # Opened (min_query_length 0): every account the sandbox knows.
    page.wait_for_selector('.modal [role="option"]:text("Initech")')
    assert options.all_inner_texts() == ["Globex Corp", "Initech", "מגדל נתונים"]
    customer.fill("glob")
    page.wait_for_selector('.modal [role="option"]:text("New customer: glob")')
    # A name first, then an alias ("Initech Global"), then the text as a new customer.
    assert options.all_inner_texts() == ["Globex Corp", "Initech", "New customer: glob"]
    picture(page, tmp_path / "type-ahead.png")
    options.filter(has_text="Globex Corp").click()
    assert customer.input_value() == "Globex Corp"
    assert not options.first.is_visible()
    page.fill("#f-experienced-value", "Invoices doubled this month")
    page.click('.modal button[type="submit"]')
    page.wait_for_selector(".modal", state="detached")

    crisis = page.locator('#crisis-channels [data-name*="globex-corp"]')
    crisis.wait_for()
    crisis.click()
    page.wait_for_selector("text=Not acknowledged yet")
    card = page.locator(".message", has=page.locator(".bk-header")).first
    assert re.search(r"Enterprise · customer's time \d\d:\d\d CES?T", card.inner_text())
    assert "@chen" in card.inner_text()  # Globex Corp's CSM owns it
    with live.runtime.deps.session_factory() as session:
        (row,) = session.scalars(select(Crisis))
        assert (row.customer, row.owner_id, row.responders) == ("Globex Corp", "U0CHEN", ["U0BEN"])
        assert row.account is not None and row.account.name == "Globex Corp"
    picture(page, tmp_path / "declared-from-type-ahead.png")
    assert errors == []


def test_a_long_channel_scrolls_under_a_fixed_composer_at_1280x720(
    live: Sandbox, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    chatter(live, 40)
    page = open_page(browser, errors, f"{live.url}#U0ANA/C0GENERAL", 1280, 720)
    page.wait_for_selector("text=Message 40: the newest one")
    page.wait_for_timeout(100)
    picture(page, tmp_path / "long-channel.png")
    # Only the message list scrolls, and it opens at the newest message.
    assert page.evaluate("() => document.documentElement.scrollHeight") <= 720
    assert page.evaluate("() => document.getElementById('messages').scrollHeight") > 720
    assert scrolled_to_newest(page)
    assert inside_viewport(page, "#composer")
    assert inside_viewport(page, "#messages [data-ts]:last-child")
    for fixed in (".channel-header", ".details", "#people"):
        assert inside_viewport(page, fixed), fixed
    assert page.locator("#composer-input").is_visible()

    # Scrolled back in history, the list stays put; the composer does not move.
    page.evaluate("() => { document.getElementById('messages').scrollTop = 0; }")
    assert inside_viewport(page, "#composer") and inside_viewport(page, ".channel-header")
    # Back at the bottom, a new message scrolls into view as it arrives.
    page.evaluate(
        "() => { const b = document.getElementById('messages'); b.scrollTop = b.scrollHeight; }"
    )
    live.emulator.post_as_user("U0BEN", "C0GENERAL", "Message 41: arrived live")
    page.wait_for_selector("text=Message 41: arrived live")
    page.wait_for_function(
        "() => { const b = document.getElementById('messages');"
        " return b.scrollHeight - b.scrollTop - b.clientHeight <= 2; }"
    )
    assert inside_viewport(page, "#composer")
    picture(page, tmp_path / "long-channel-live.png")
    assert errors == []


def test_a_phone_sees_the_channel_and_the_composer_with_a_sidebar_toggle(
    live: Sandbox, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    chatter(live, 40)
    page = open_page(browser, errors, f"{live.url}#U0ANA/C0GENERAL", 390, 844)
    page.wait_for_selector("text=Message 40: the newest one")
    page.wait_for_timeout(100)
    picture(page, tmp_path / "phone.png")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways
    assert inside_viewport(page, "#composer") and scrolled_to_newest(page)
    assert inside_viewport(page, "#sidebar-toggle")
    assert not page.locator(".details").is_visible()
    sidebar = page.locator("#sidebar").bounding_box()
    assert sidebar is None or sidebar["x"] + sidebar["width"] <= 0  # tucked away

    page.click("#sidebar-toggle")
    page.wait_for_function(
        "() => document.getElementById('sidebar').getBoundingClientRect().left >= 0"
    )
    assert inside_viewport(page, '#channels [data-name="cs-crises"]')
    picture(page, tmp_path / "phone-sidebar.png")
    page.click('#channels [data-name="cs-crises"]')
    page.wait_for_selector("#channel-name:text('#cs-crises')")
    page.wait_for_function(
        "() => document.getElementById('sidebar').getBoundingClientRect().right <= 0"
    )
    assert inside_viewport(page, "#composer")
    assert errors == []


def test_the_bots_dm_gets_an_unread_marker_and_renders_slack_mrkdwn(
    live: Sandbox, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{live.url}#U0ANA/C0GENERAL", 1280, 720)
    page.wait_for_selector('.person[data-user="U0ANA"][aria-selected="true"]')
    app = page.locator('#apps [data-channel="app"]')
    assert "unread" not in (app.get_attribute("class") or "")

    bot(live).chat_postMessage(
        channel="U0ANA",
        text=(
            ":rotating_light: *Acme*: escalated in <#C0ESCAL> (*sev1*); the customer is in"
            " <#C0SHARED|globex-acme>, see also <#C0GENERAL|old-name> and *Acme Corp*'s notes."
        ),
    )
    page.wait_for_selector('#apps [data-channel="app"].unread')
    assert app.locator(".unread-count").inner_text() == "1"
    picture(page, tmp_path / "dm-unread.png")

    app.click()
    page.wait_for_selector("#messages >> text=escalated in")
    page.wait_for_selector('#apps [data-channel="app"]:not(.unread)')
    assert app.locator(".unread-count").count() == 0
    shown = page.locator("#messages").inner_text()
    # Channel mentions read as #name, looked up even for channels ana is not in.
    assert "<#" not in shown and "C0ESCAL" not in shown and "C0SHARED" not in shown
    assert "#cs-escalations" in shown and "#globex-acme" in shown and "#general" in shown
    # Bold next to punctuation is bold: `*Acme*:`, `(*sev1*)`, `*Acme Corp*'s`.
    bold = page.locator("#messages b").all_inner_texts()
    assert {"Acme", "sev1", "Acme Corp"} <= set(bold)
    assert "*" not in shown
    picture(page, tmp_path / "dm-read.png")

    # Reading the DM as news arrives keeps it read; leaving it, the next one is news again.
    bot(live).chat_postMessage(channel="U0ANA", text="Another heads-up")
    page.wait_for_selector("text=Another heads-up")
    assert "unread" not in (app.get_attribute("class") or "")
    # Minutes apart, the bot's messages run together under one name, as in Slack.
    assert page.locator("#messages .message.grouped", has_text="Another heads-up").count() == 1
    assert page.locator("#messages .author").all_inner_texts() == ["crisisbot"]
    page.click('#channels [data-name="general"]')
    page.wait_for_selector("#channel-name:text('#general')")
    assert "unread" not in (app.get_attribute("class") or "")
    bot(live).chat_postMessage(channel="U0ANA", text="A third one")
    page.wait_for_selector('#apps [data-channel="app"].unread')
    assert app.locator(".unread-count").inner_text() == "1"
    assert errors == []


MRKDWN = {
    # Slack's rule: a mark opens at the start or after a non-letter, closes before one.
    "*Acme*: down": "<b>Acme</b>: down",
    "(*bold*)": "(<b>bold</b>)",
    "[*x*], *y*!": "[<b>x</b>], <b>y</b>!",
    "*Acme Corp*'s": "<b>Acme Corp</b>&#39;s",
    '"*quoted*"': "&quot;<b>quoted</b>&quot;",
    "_*both*_": "<i><b>both</b></i>",
    "~gone~; _it_.": "<s>gone</s>; <i>it</i>.",
    # ...and never inside a word or around spaces.
    "2 * 3 * 4": "2 * 3 * 4",
    "a*b*c": "a*b*c",
    "snake_case_name": "snake_case_name",
    "*not bold *": "*not bold *",
    "`*code*`": "<code>*code*</code>",
}


def test_the_mrkdwn_renderer_follows_slacks_rules(
    live: Sandbox, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{live.url}#U0ANA/C0GENERAL", 1280, 720)
    page.wait_for_selector('.person[data-user="U0ANA"][aria-selected="true"]')
    rendered = page.evaluate("(cases) => cases.map((text) => mrkdwn(text))", list(MRKDWN))
    assert dict(zip(MRKDWN, rendered, strict=True)) == MRKDWN
    channels = page.evaluate(
        "() => ['<#C0SHARED>', '<#C0GENERAL|renamed>', '<#C0NOPE|secret>', '<#C0NOPE>']"
        ".map((text) => { const d = document.createElement('div');"
        " d.innerHTML = mrkdwn(text); return d.textContent; })"
    )
    assert channels == ["#globex-acme", "#general", "#secret", "🔒private-channel"]
    assert errors == []


def test_external_people_are_marked_in_every_picker(
    live: Sandbox, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{live.url}#U0ANA/C0GENERAL", 1280, 720)
    cora = page.locator('.person[data-user="U0CORA"]')
    cora.wait_for()
    assert cora.get_attribute("aria-label") == "cora (Globex Corp, external)"
    assert "Globex Corp" in cora.inner_text() and cora.locator(".badge-external").is_visible()
    assert page.locator('.person[data-user="U0BEN"]').get_attribute("aria-label") == "ben"

    def people_input(block_id: str, kind: str) -> dict[str, Any]:
        return {
            "type": "input",
            "block_id": block_id,
            "label": {"type": "plain_text", "text": block_id},
            "element": {"type": kind, "action_id": "pick"},
        }

    emu = live.emulator
    bot(live).views_open(
        trigger_id=emu.issue_trigger("U0ANA"),
        view={
            "type": "modal",
            "title": {"type": "plain_text", "text": "Responders"},
            "submit": {"type": "plain_text", "text": "Save"},
            "blocks": [
                people_input("owner", "users_select"),
                people_input("responders", "multi_users_select"),
            ],
        },
    )
    page.wait_for_selector(".modal")
    owner = page.locator('.modal [data-block-id="owner"] option[value="U0CORA"]')
    assert owner.inner_text() == "cora (Globex Corp, external)"
    responders = page.locator('.modal [data-block-id="responders"] label', has_text="cora")
    assert responders.inner_text().strip() == "cora (Globex Corp, external)"
    assert (
        page.locator('.modal [data-block-id="owner"] option[value="U0BEN"]').inner_text() == "ben"
    )
    picture(page, tmp_path / "picker.png")
    assert errors == []
