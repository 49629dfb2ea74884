"""The page in headless Chromium: a crisis end to end, the layout at desktop and phone sizes,
Slack's mrkdwn, the bot DM's unread marker, external people and guests in pickers, and the
flows a person drives by hand: a second crisis for the same customer, responders, severity,
typos, refusals, the Home tab and a reminder that turns into "Done" after the update.

Screenshots go to each test's tmp_path (and are checked there); only `make screenshot`
(CRISISBOT_SCREENSHOT=1) copies the first test's picture to docs/sandbox.png.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.db.models import Crisis
from crisisbot.sandbox import BOT_TOKEN, Sandbox
from scheduler.jobs import sweep_due
from tests.support import Clock

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


@pytest.fixture
def clock() -> Clock:
    """The bot's clock, starting now so the page's "Today" and local times read naturally."""
    return Clock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def timed(tmp_path: Path, clock: Clock) -> Iterator[Sandbox]:
    """A sandbox whose bot runs on `clock` (swept by hand), with @cs-leads as admins."""
    with Sandbox(
        clock=clock,
        run_scheduler=False,
        database_url=f"sqlite:///{tmp_path / 't.db'}",
        settings={"admins": "S0CSLEADS"},
    ) as running:
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
    page.set_default_timeout(10_000)
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
    rendered = page.evaluate(
        "async (cases) => { const { mrkdwn } = await import('/static/mrkdwn.js');"
        " return cases.map((text) => mrkdwn(text)); }",
        list(MRKDWN),
    )
    assert dict(zip(MRKDWN, rendered, strict=True)) == MRKDWN
    channels = page.evaluate(
        "async () => { const { mrkdwn } = await import('/static/mrkdwn.js');"
        " const { names } = await import('/static/state.js');"
        " return ['<#C0SHARED>', '<#C0GENERAL|renamed>', '<#C0NOPE|secret>', '<#C0NOPE>']"
        ".map((text) => { const d = document.createElement('div');"
        " d.innerHTML = mrkdwn(text, names()); return d.textContent; }); }"
    )
    assert channels == ["#globex-acme", "#general", "#secret", "🔒private-channel"]
    # User groups (a refusal names the admins' group) read as their @handle.
    groups = page.evaluate(
        "async () => { const { mrkdwn } = await import('/static/mrkdwn.js');"
        " const { names } = await import('/static/state.js');"
        " return ['<!subteam^S0CSLEADS>', '<!subteam^S0CSLEADS|@cs-leads>',"
        " 'ask <!subteam^S0GONE|@old-leads>!'].map((text) => {"
        " const d = document.createElement('div'); d.innerHTML = mrkdwn(text, names());"
        " return d.textContent; }); }"
    )
    assert groups == ["@cs-leads", "@cs-leads", "ask @old-leads!"]
    assert errors == []


# Runs in a module worker: no document, no window, no page state.
IN_A_WORKER = """async (cases) => {
  const code = `
    const { mrkdwn, textObject } = await import("${location.origin}/static/mrkdwn.js");
    const blockkit = await import("${location.origin}/static/blockkit.js");
    postMessage({
      rendered: ${JSON.stringify(cases)}.map((text) => mrkdwn(text)),
      mention: mrkdwn("<@U0BEN> in <#C0GENERAL> at <!date^0^{date_short}|then>"),
      plain: textObject({ type: "plain_text", text: ":eyes: <b>" }),
      exports: Object.keys(blockkit).sort(),
    });`;
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  return await new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(event.message || "the worker failed"));
  });
}"""


def test_the_page_is_es_modules_and_mrkdwn_works_without_a_page(
    live: Sandbox, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{live.url}#U0ANA/C0GENERAL", 1280, 720)
    page.wait_for_selector('.person[data-user="U0ANA"][aria-selected="true"]')
    scripts = page.evaluate(
        "() => [...document.scripts].map((s) => [s.type, new URL(s.src).pathname])"
    )
    assert scripts == [["module", "/static/main.js"]]
    # Nothing leaks into the page's globals the way a classic script's functions did.
    assert page.evaluate("() => typeof window.mrkdwn") == "undefined"

    # mrkdwn.js and blockkit.js touch no DOM while they load, so they run in a worker too.
    out = page.evaluate(IN_A_WORKER, list(MRKDWN))
    assert dict(zip(MRKDWN, out["rendered"], strict=True)) == MRKDWN
    # Without the page's names, ids stay ids, channels read as private and times are UTC.
    assert out["mention"] == (
        '<span class="mention" data-user="U0BEN">@U0BEN</span> in '
        '<a href="#" class="mention" data-channel="C0GENERAL">🔒private-channel</a> at '
        '<span class="date" title="then · shown in UTC, your time zone" data-ts="0">'
        "Jan 1, 1970</span>"
    )
    assert out["plain"] == "👀 &lt;b&gt;"
    assert {"renderBlocks", "formValues", "personLabel"} <= set(out["exports"])

    # In the page, blockkit.js builds the same nodes a message shows.
    html = page.evaluate(
        """async () => {
          const { renderBlocks } = await import('/static/blockkit.js');
          const { names } = await import('/static/state.js');
          const blocks = [
            { type: 'section', block_id: 's', text: { type: 'mrkdwn', text: '*Owner*: <@U0ANA>' },
              accessory: { type: 'button', action_id: 'go', style: 'primary',
                           text: { type: 'plain_text', text: 'Go :eyes:' } } },
            { type: 'input', block_id: 'i', label: { type: 'plain_text', text: 'Hidden' },
              element: { type: 'plain_text_input', action_id: 'x' } },
          ];
          return renderBlocks(blocks, { form: false, names: names(), onAction: () => {} })
            .outerHTML;
        }"""
    )
    assert html == (
        '<div class="blocks"><div class="bk-section" data-block-id="s"><div class="bk-main">'
        '<div class="text"><b>Owner</b>: <span class="mention me" data-user="U0ANA">@ana</span>'
        '</div></div><button class="btn primary" type="button" data-action-id="go">'
        "<span>Go 👀</span></button></div></div>"
    )
    assert errors == []


def test_external_people_and_guests_are_marked_in_every_picker(
    live: Sandbox, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{live.url}#U0ANA/C0GENERAL", 1280, 720)
    cora = page.locator('.person[data-user="U0CORA"]')
    cora.wait_for()
    assert cora.get_attribute("aria-label") == "cora (Globex Corp, external)"
    assert "Globex Corp" in cora.inner_text() and cora.locator(".badge-external").is_visible()
    assert page.locator('.person[data-user="U0BEN"]').get_attribute("aria-label") == "ben"
    # A guest of our own organization is marked too.
    gus = page.locator('.person[data-user="U0GUS"]')
    assert gus.get_attribute("aria-label") == "gus (guest)"
    assert gus.locator(".badge-guest").inner_text().lower() == "guest"

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
    assert (
        page.locator('.modal [data-block-id="owner"] option[value="U0GUS"]').inner_text()
        == "gus (guest)"
    )
    guest = page.locator('.modal [data-block-id="responders"] label', has_text="gus")
    assert guest.inner_text().strip() == "gus (guest)"
    picture(page, tmp_path / "picker.png")
    assert errors == []


# --- the flows of issue 10, driven by a person in the page ------------------------------


def be(page: Any, user: str) -> None:
    """Pick `user` in the "who are you" list."""
    page.click(f'.person[data-user="{user}"]')
    page.wait_for_selector(f'.person[data-user="{user}"][aria-selected="true"]')


def say(page: Any, text: str) -> None:
    """Type `text` into the composer and press Enter."""
    composer = page.locator("#composer-input")
    composer.fill(text)
    composer.press("Enter")


def private(page: Any, text: str) -> Any:
    """The "Only visible to you" message saying `text`, once it is shown."""
    found = page.locator("#messages .message.ephemeral", has_text=text).last
    found.wait_for()
    return found


def crisis_channels(sandbox: Sandbox) -> list[str]:
    with sandbox.emulator.workspace.lock:
        channels = sandbox.emulator.workspace.channels.values()
        return sorted(c.name for c in channels if c.name.startswith("crisis-"))


def actions_sent(sandbox: Sandbox) -> list[str]:
    """The action_ids of every block_actions payload the app was sent and answered 2xx."""
    sent = []
    for attempt in sandbox.inbound.attempts:
        if attempt.kind == "block_actions" and attempt.ok:
            payload = json.loads(parse_qs(attempt.body)["payload"][0])
            sent += [action["action_id"] for action in payload["actions"]]
    return sent


def card_says(page: Any, pattern: str) -> None:
    """Wait until the crisis card's fields match the regular expression `pattern`."""
    page.wait_for_function(
        "(pattern) => new RegExp(pattern)"
        ".test(document.querySelector('#messages .bk-fields')?.innerText || '')",
        arg=pattern,
    )


def declare_in_page(page: Any, text: str) -> Any:
    """Declare from #cs-crises and open the new crisis channel; returns the card."""
    before = page.locator("#crisis-channels [data-channel]").count()
    say(page, text)
    private(page, "declared in")
    page.wait_for_function(
        f"() => document.querySelectorAll('#crisis-channels [data-channel]').length > {before}"
    )
    page.locator("#crisis-channels [data-channel]").first.click()
    page.wait_for_selector("#channel-name:text('#crisis-')")
    card = page.locator("#messages .message", has=page.locator(".bk-header")).first
    card.wait_for()
    return card


def test_a_second_crisis_for_the_same_customer_asks_first(
    live: Sandbox, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{live.url}#U0ANA/C0CRISES", 1440, 900)
    be(page, "U0ANA")
    say(page, "/crisis new Acme: dashboards empty since 09:10 sev2")
    private(page, "declared in")
    (first,) = live.emulator.wait_for(lambda: crisis_channels(live))

    # Same customer, other case: nothing is declared yet; a private question instead.
    say(page, "/crisis new acme: the export is failing too")
    question = private(page, "already has an open crisis")
    assert f"#{first}" in question.inner_text() and "<#" not in question.inner_text()
    go = question.locator('a.btn[data-action-id="crisis_go_to"]')
    assert go.inner_text() == f"Go to #{first}"
    assert go.get_attribute("href") == "https://slack.com/app_redirect?channel=" + (
        live.emulator.channel_by_name(first).id
    )
    anyway = question.locator('button[data-action-id="crisis_declare_anyway"]')
    assert anyway.inner_text() == "Declare anyway"
    assert crisis_channels(live) == [first]
    picture(page, tmp_path / "second-crisis-question.png")

    # The question is a command's private reply: its buttons work all the same.
    anyway.click()
    page.wait_for_function(
        "() => document.querySelectorAll('#crisis-channels [data-channel]').length === 2"
    )
    assert len(crisis_channels(live)) == 2
    assert "crisis_declare_anyway" in actions_sent(live)

    # The link button opens the first crisis's channel, and Slack still tells the app.
    go.click()
    page.wait_for_selector(f"#channel-name:text('#{first}')")
    live.emulator.wait_for(lambda: "crisis_go_to" in actions_sent(live))
    assert errors == []


def test_responders_severity_typos_and_refusals_from_the_composer(
    timed: Sandbox, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{timed.url}#U0ANA/C0CRISES", 1440, 900)
    be(page, "U0ANA")
    card = declare_in_page(page, "/crisis new Acme: dashboards empty since 09:10 sev2")
    channel = page.locator("#crisis-channels [data-channel]").first.get_attribute("data-channel")
    assert "SEV2" in card.inner_text()

    say(page, "/crisis add @ben")
    page.wait_for_selector("#messages >> text=added @ben as a responder")
    fields = card.locator(".bk-fields")
    card_says(page, r"Responders\s*@ben")
    assert "<@" not in fields.inner_text()

    say(page, "/crisis severity sev1")
    card_says(page, "SEV1")
    assert "SEV1 · critical" in fields.inner_text()
    page.wait_for_selector("#channel-topic:has-text('SEV1')")
    assert "@ana" in page.locator("#channel-topic").inner_text()

    # A typo gets the command it probably meant.
    say(page, "/crisis nwe Acme: login fails")
    typo = private(page, "I don't know")
    assert "Did you mean /crisis new?" in typo.inner_text()
    assert typo.locator("code", has_text="/crisis new").count() >= 1

    # Someone who is neither owner nor responder is told who may, the admins' group by name.
    bot(timed).conversations_invite(channel=channel, users="U0CHEN")
    be(page, "U0CHEN")
    page.locator(f'#crisis-channels [data-channel="{channel}"]').click()
    page.wait_for_selector("#channel-name:text('#crisis-')")
    say(page, "/crisis severity sev3")
    refusal = private(page, "can change the severity of")
    shown = refusal.inner_text()
    assert "@cs-leads" in shown and "subteam" not in shown and "S0CSLEADS" not in shown
    assert "@ana" in shown and "@ben" in shown
    picture(page, tmp_path / "refusal.png")
    assert "SEV1" in card.inner_text()
    assert errors == []


def test_people_from_another_organisation_are_refused_and_nothing_is_created(
    live: Sandbox, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{live.url}#U0ANA/C0CRISES", 1280, 720)
    be(page, "U0CORA")  # Globex Corp's cora, in the Slack Connect channel #globex-acme
    page.wait_for_selector("#channel-name:text('#globex-acme')")
    say(page, "/crisis new Globex: checkout is down sev1")
    refused = private(page, "commands are for the team running the crisis")
    assert "🔒" in refused.inner_text()
    picture(page, tmp_path / "external-refused.png")
    live.inbound.wait_idle()
    assert crisis_channels(live) == []
    be(page, "U0ANA")
    page.wait_for_selector("#crisis-channels .empty-note")
    assert errors == []


def test_the_home_tab_declares_a_crisis(
    live: Sandbox, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{live.url}#U0ANA/C0CRISES", 1280, 720)
    be(page, "U0ANA")
    page.click('#apps [data-channel="app"]')
    page.wait_for_selector("#channel-name:text('crisisbot')")
    page.click("#tabs .tab:text('Home')")
    declare = page.locator('#messages [data-action-id="home_declare"]')
    assert declare.inner_text() == "Declare a crisis"
    declare.click()
    modal = page.locator(".modal")
    modal.wait_for()
    assert "customer" in modal.inner_text().lower()
    picture(page, tmp_path / "home-declare.png")
    assert errors == []


def test_the_weekly_digest_shows_its_chart_in_cs_weekly_and_the_home_tab_its_figures(
    live: Sandbox, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    from scheduler.jobs import post_weekly_digest

    assert post_weekly_digest(live.runtime.deps)  # what the scheduler does on start
    page = open_page(browser, errors, f"{live.url}#U0ANA/C0WEEKLY", 1280, 900)
    be(page, "U0ANA")
    page.wait_for_selector("#channel-name:text('#cs-weekly')")
    page.wait_for_selector("#messages .bk-header:text('Weekly digest')")
    chart = page.locator("#messages .file-image img")
    chart.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('#messages .file-image img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    # The PNG itself, at its size (1000 × 600), shown within the column.
    assert chart.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [1000, 600]
    assert 0 < chart.bounding_box()["width"] <= 1000
    picture(page, tmp_path / "weekly-digest.png")
    page.click('#apps [data-channel="app"]')
    page.click("#tabs .tab:text('Home')")
    page.wait_for_selector("#messages :text('The last 30 days')")
    assert "You (as owner)" in page.locator("#messages").inner_text()
    picture(page, tmp_path / "home-dashboard.png")
    assert errors == []


def test_a_reminder_dm_reads_done_once_the_update_is_posted(
    timed: Sandbox, clock: Clock, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{timed.url}#U0ANA/C0CRISES", 1280, 720)
    be(page, "U0ANA")
    declare_in_page(page, "/crisis new Acme: dashboards empty since 09:10 sev1")
    crisis = page.locator("#crisis-channels [data-channel]").first.get_attribute("data-channel")

    # Twenty minutes on, ten before the promised update, the owner's heads-up arrives.
    clock.advance(minutes=20)
    assert [sent.kind for sent in sweep_due(timed.runtime.deps)] == ["heads_up"]
    app = page.locator('#apps [data-channel="app"]')
    page.wait_for_selector('#apps [data-channel="app"].unread')
    app.click()
    reminder = page.locator("#messages .message", has_text="Heads-up: the next update to")
    reminder.wait_for()
    assert reminder.locator('[data-action-id="crisis_open_update"]').is_visible()
    picture(page, tmp_path / "reminder.png")

    page.locator(f'#crisis-channels [data-channel="{crisis}"]').click()
    page.wait_for_selector("#channel-name:text('#crisis-')")
    clock.advance(minutes=2)
    say(page, "/crisis update Root cause found: a bad deploy; rolling back now")
    page.wait_for_selector("#messages >> text=Root cause found: a bad deploy")

    # Back in the DM, the reminder now says it is done, and by whom.
    timed.emulator.wait_for(
        lambda: "Done:" in timed.emulator.dm_messages("U0ANA")[0].text, timeout=5
    )
    app.click()
    done = page.locator("#messages .message", has_text="Done: update to")
    done.wait_for()
    assert "Acme" in done.inner_text() and "@ana" in done.inner_text()
    assert "(edited)" in done.inner_text()
    assert page.locator("#messages", has_text="Heads-up: the next update to").count() == 0
    assert done.locator(".btn").count() == 0
    picture(page, tmp_path / "reminder-done.png")
    assert errors == []


def test_picking_someone_while_the_page_is_refreshing_sticks(
    live: Sandbox, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{live.url}#U0ANA/C0GENERAL", 1280, 720)
    be(page, "U0ANA")
    # Ana's view is slow to come back; meanwhile the person picks ben (then a channel).
    page.evaluate(
        "() => { const real = window.fetch; window.fetch = async (url, options) => {"
        " const answer = await real(url, options);"
        " if (String(url).includes('user=U0ANA')) await new Promise((r) => setTimeout(r, 500));"
        " return answer; }; }"
    )
    live.emulator.post_as_user("U0CHEN", "C0GENERAL", "a message, so the page refreshes")
    page.wait_for_timeout(150)
    page.click('.person[data-user="U0BEN"]')
    page.wait_for_timeout(1200)
    assert page.locator('.person[data-user="U0BEN"]').get_attribute("aria-selected") == "true"
    assert page.locator("#composer-input").get_attribute("placeholder").endswith("as ben")
    assert errors == []


def test_overdue_pin_escalation_help_and_the_follow_up_check_in(
    timed: Sandbox, clock: Clock, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{timed.url}#U0ANA/C0CRISES", 1440, 900)
    be(page, "U0ANA")
    declare_in_page(page, "/crisis new Acme: dashboards empty since 09:10 sev1")
    crisis = page.locator("#crisis-channels [data-channel]").first.get_attribute("data-channel")

    # Past the promise, the pinned commitment says it is overdue.
    clock.advance(minutes=30)
    assert "overdue" in [sent.kind for sent in sweep_due(timed.runtime.deps)]
    page.wait_for_selector("#pins .pin:has-text('overdue since')")
    assert "Next update to Acme by" not in page.locator("#pins").inner_text()

    # Thirty minutes later it is escalated; ben offers help from #cs-escalations.
    clock.advance(minutes=30)
    assert "escalation" in [sent.kind for sent in sweep_due(timed.runtime.deps)]
    be(page, "U0BEN")
    page.click('#channels [data-name="cs-escalations"]')
    escalation = page.locator("#messages .message", has_text="Escalation:")
    escalation.wait_for()
    assert escalation.locator('[data-action-id="escalation_take_over"]').inner_text() == "Take over"
    escalation.locator('button:has-text("I\'ll help")').click()
    private(page, "you are now a responder")
    ben_in = page.locator(f'#crisis-channels [data-channel="{crisis}"]')
    ben_in.wait_for()
    ben_in.click()
    card_says(page, r"Responders\s*@ben")
    picture(page, tmp_path / "escalation-helped.png")

    # Ana closes it; three days on, her follow-up DM asks her to check in with the customer.
    be(page, "U0ANA")
    page.locator(f'#crisis-channels [data-channel="{crisis}"]').click()
    page.wait_for_selector("#channel-name:text('#crisis-')")
    say(page, "/crisis close Rolled back the bad deploy; dashboards are live again")
    page.wait_for_selector("#messages >> text=Reminders have stopped.")
    clock.advance(days=3, minutes=1)
    assert "follow_up" in [sent.kind for sent in sweep_due(timed.runtime.deps)]
    page.wait_for_selector('#apps [data-channel="app"].unread')
    page.click('#apps [data-channel="app"]')
    follow_up = page.locator("#messages .message", has_text="Time to check in with")
    follow_up.wait_for()
    assert follow_up.locator('[data-action-id="follow_up_open_reopen"]').inner_text() == "Reopen"
    follow_up.locator('button:has-text("Checked in with the customer")').click()
    done = page.locator("#messages .message", has_text="Recorded on the crisis timeline")
    done.wait_for()
    assert "@ana checked in with Acme" in done.inner_text()
    assert done.locator(".btn").count() == 0
    picture(page, tmp_path / "follow-up-checked-in.png")
    assert errors == []


def test_a_csm_tells_globex_and_cora_sees_only_what_was_sent(
    live: Sandbox, tmp_path: Path, browser: Any, errors: list[str]
) -> None:
    page = open_page(browser, errors, f"{live.url}#U0CHEN/C0GENERAL", 1280, 800)
    page.wait_for_selector('.person[data-user="U0CHEN"][aria-selected="true"]')
    composer = page.locator("#composer-input")
    composer.fill("/crisis new Globex: invoices doubled this month sev2")
    composer.press("Enter")
    crisis = page.locator('#crisis-channels [data-name*="globex-corp"]')
    crisis.wait_for()
    crisis.click()
    page.wait_for_selector("text=Not acknowledged yet")

    composer.fill("/crisis tell Invoices are correct again; we are refunding the difference.")
    composer.press("Enter")
    preview = page.locator(".message", has=page.locator("text=Preview: what Globex Corp will see"))
    preview.wait_for()
    assert "It goes to #globex-acme" in preview.inner_text()
    picture(page, tmp_path / "tell-preview.png")
    preview.locator('button:has-text("Send to Globex Corp")').click()
    page.wait_for_selector("text=Sent to Globex Corp in #globex-acme")
    picture(page, tmp_path / "tell-sent.png")

    cora = open_page(browser, errors, f"{live.url}#U0CORA/C0SHARED", 1280, 800)
    cora.wait_for_selector("text=Invoices are correct again; we are refunding the difference.")
    shown = cora.locator("#messages").inner_text()
    assert "You will hear from us again by" in shown
    # Nothing internal: no preview, no quote, no crisis channel, no severity.
    for internal in ("Preview", "Sent to", "SEV", "globex-corp", "Not acknowledged"):
        assert internal not in shown
    assert cora.locator("#crisis-channels [data-channel]").count() == 0
    state = live.emulator.page.state("U0CORA", None) if live.emulator.page else {}
    assert [c["name"] for c in state["channels"]] == ["globex-acme"]
    assert [d["name"] for d in state["directory"]] == ["globex-acme"]
    (sent,) = [m for m in state["channel"]["messages"] if m.get("user") == "U0BOT"]
    assert sent["text"].startswith("Invoices are correct again; we are refunding the difference.")
    picture(cora, tmp_path / "cora-sees.png")
    assert errors == []
