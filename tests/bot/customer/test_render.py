"""Customer messages: the exact texts in English and Hebrew, every kind, overrides, escaping."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.customer import (
    render_broadcast,
    render_check_in,
    render_closure,
    render_frame,
    render_update,
    template_for,
)
from bot.customer.render import KIND_TEMPLATES, PACKAGE_TEMPLATES
from bot.domain import KIND_LABELS

FSI, LRI, PDI, RLM = "\u2068", "\u2066", "\u2069", "\u200f"
DUE = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)  # a Tuesday: 14:30 in Berlin, 15:30 in Israel
STAMP = "1796131800"
EN_DUE = f"<!date^{STAMP}^{{date_short_pretty}} at {{time}}|Tuesday, 1 December at 14:30 CET>"
HE_DUE = (
    f"{FSI}<!date^{STAMP}^{{date_short_pretty}} {{time}}"
    f"|יום שלישי, 1 בדצמבר בשעה {LRI}15:30{PDI} {FSI}שעון ישראל (חורף){PDI}>{PDI}"
)


def globex_outage() -> str:
    return render_update(
        kind="service_outage",
        language="en",
        customer="Globex Corp",
        experienced="The dashboard returns 502 errors since 09:10.",
        doing="Our on-call engineers are rolling back release 4.2.",
        next_steps=["Confirm that exports run again", "Send you the root cause"],
        next_due=DUE,
        zone="Europe/Berlin",
    ).text


def test_outage_update_in_english() -> None:
    assert globex_outage() == (
        "Hello Globex Corp team,\n"
        "\n"
        "Your service has been unavailable, and we know how much your team relies on it."
        " Restoring it is our top priority right now.\n"
        "\n"
        "*What you experienced:* The dashboard returns 502 errors since 09:10.\n"
        "*What we are doing:* Our on-call engineers are rolling back release 4.2.\n"
        "\n"
        "*Next steps:*\n"
        "• Confirm that exports run again\n"
        "• Send you the root cause\n"
        "\n"
        f"*When you will hear from us next:* {EN_DUE}, even if nothing has changed by then."
    )


def test_outage_update_in_hebrew_keeps_latin_names_and_numbers_in_place() -> None:
    message = render_update(
        kind="service_outage",
        language="he",
        customer="מגדל נתונים",
        experienced="הדשבורד מחזיר שגיאה 502 מאז 09:10",
        doing="אנחנו מחזירים את גרסה 4.2 של Exporter לאחור.",
        next_steps=["Exporter רץ שוב", "לשלוח לכם ניתוח של שורש הבעיה"],
        next_due=DUE,
        zone="Asia/Jerusalem",
    )
    assert message.language == "he"
    assert message.template == "he/outage.md.j2"
    assert message.text == (
        f"שלום לצוות {FSI}מגדל נתונים{PDI},\n"
        "\n"
        "אנחנו יודעים שהשירות לא זמין עבורכם, וכמה הצוות שלכם תלוי בו."
        " החזרת השירות נמצאת עכשיו בראש סדר העדיפויות שלנו.\n"
        "\n"
        f"*מה חוויתם:* {FSI}הדשבורד מחזיר שגיאה 502 מאז 09:10{PDI}\n"
        f"*מה אנחנו עושים:* {FSI}אנחנו מחזירים את גרסה 4.2 של Exporter לאחור.{PDI}\n"
        "\n"
        "*הצעדים הבאים:*\n"
        # A bullet line starts with a right-to-left mark: it has no Hebrew letter of its own
        # outside the isolate, and would otherwise be laid out left to right.
        f"{RLM}• {FSI}Exporter רץ שוב{PDI}\n"
        f"{RLM}• {FSI}לשלוח לכם ניתוח של שורש הבעיה{PDI}\n"
        "\n"
        f"*מתי תשמעו מאיתנו שוב:* {HE_DUE}, גם אם עד אז לא יהיה שינוי."
    )


def test_closure_in_english() -> None:
    message = render_closure(
        language="en",
        customer="Globex Corp",
        resolved="Nightly exports run again and every missed export was delivered.",
        follow_ups=["Root-cause report by Thursday", "Alerting on export delays"],
        check_in_due=DUE,
        zone="Europe/Berlin",
    )
    assert message.text == (
        "Hello Globex Corp team,\n"
        "\n"
        "We have resolved the issue, and we want to close every loose end with you.\n"
        "\n"
        "*What was resolved:* Nightly exports run again and every missed export was delivered.\n"
        "\n"
        "*What we are still doing:*\n"
        "• Root-cause report by Thursday\n"
        "• Alerting on export delays\n"
        "\n"
        f"We will check in with you by {EN_DUE} to make sure everything works as it should.\n"
        "\n"
        "Thank you for working through this with us. This channel stays open for your questions."
    )


def test_closure_in_hebrew() -> None:
    message = render_closure(
        language="he",
        customer="מגדל נתונים",
        resolved="הייצוא הלילי של Exporter רץ שוב.",
        follow_ups=["ניתוח שורש הבעיה עד יום חמישי"],
        check_in_due=DUE,
        zone="Asia/Jerusalem",
    )
    assert message.text == (
        f"שלום לצוות {FSI}מגדל נתונים{PDI},\n"
        "\n"
        "פתרנו את התקלה, ואנחנו רוצים לסגור איתכם את כל הקצוות.\n"
        "\n"
        f"*מה נפתר:* {FSI}הייצוא הלילי של Exporter רץ שוב.{PDI}\n"
        "\n"
        "*מה אנחנו עוד עושים:*\n"
        f"{RLM}• {FSI}ניתוח שורש הבעיה עד יום חמישי{PDI}\n"
        "\n"
        f"נבדוק איתכם שוב, עד {HE_DUE}, שהכול עובד כמו שצריך.\n"
        "\n"
        "תודה שעבדתם על זה יחד איתנו. הערוץ הזה נשאר פתוח לכל שאלה שתהיה לכם."
    )


def test_closure_without_follow_ups_or_check_in_still_keeps_the_channel_open() -> None:
    message = render_closure(
        language="en", customer="Initech", resolved="Invoices are corrected.", zone="UTC"
    )
    assert message.text == (
        "Hello Initech team,\n"
        "\n"
        "We have resolved the issue, and we want to close every loose end with you.\n"
        "\n"
        "*What was resolved:* Invoices are corrected.\n"
        "\n"
        "Thank you for working through this with us. This channel stays open for your questions."
    )


def test_frame_in_english() -> None:
    message = render_frame(
        text="We rolled back release 4.2; exports are running again.",
        language="en",
        next_due=DUE,
        zone="Europe/Berlin",
    )
    assert message.text == (
        "We rolled back release 4.2; exports are running again.\n"
        "\n"
        f"You will hear from us again by {EN_DUE}, even if nothing has changed by then."
    )


def test_frame_in_hebrew_sends_an_english_text_as_written() -> None:
    message = render_frame(
        text="We rolled back release 4.2; exports are running again.",
        language="he",
        next_due=DUE,
        zone="Asia/Jerusalem",
    )
    assert message.text == (
        "We rolled back release 4.2; exports are running again.\n"
        "\n"
        f"נעדכן אתכם שוב עד {HE_DUE}, גם אם עד אז לא יהיה שינוי."
    )


def test_frame_in_hebrew_reads_a_hebrew_line_right_to_left_even_when_it_starts_in_latin() -> None:
    message = render_frame(
        text="Exporter חזר לעבוד.\nRelease 4.2 rolled back.",
        language="he",
        next_due=DUE,
        zone="Asia/Jerusalem",
    )
    assert message.text.split("\n")[:2] == [f"{RLM}Exporter חזר לעבוד.", "Release 4.2 rolled back."]


def test_check_in_in_both_languages() -> None:
    english = render_check_in(
        language="en", customer="Globex Corp", resolved="Exports run again.", follow_ups=["Done"]
    )
    assert english.text == (
        "Hello Globex Corp team,\n"
        "\n"
        "We wanted to check in with you since we resolved the issue.\n"
        "\n"
        "*What was resolved:* Exports run again.\n"
        "\n"
        "*Where the follow-ups stand:*\n"
        "• Done\n"
        "\n"
        "How is everything on your side? If anything still isn't right, or you have a question,"
        " reply here: this channel stays open for you."
    )
    hebrew = render_check_in(language="he", customer="מגדל נתונים", resolved="הייצוא חזר.")
    assert hebrew.text == (
        f"שלום לצוות {FSI}מגדל נתונים{PDI},\n"
        "\n"
        "רצינו לבדוק איתכם איך הדברים מאז שפתרנו את התקלה.\n"
        "\n"
        f"*מה נפתר:* {FSI}הייצוא חזר.{PDI}\n"
        "\n"
        "איך הכול אצלכם? אם משהו עדיין לא תקין, או שיש לכם שאלה, כתבו לנו כאן:"
        " הערוץ הזה נשאר פתוח עבורכם."
    )


def test_broadcast_speaks_to_each_customer_in_their_language_and_time_zone() -> None:
    english = render_broadcast(
        language="en",
        customer="Globex Corp",
        affected="the EU API",
        doing="We are rolling back release 4.2.",
        next_due=DUE,
        zone="Europe/Berlin",
    )
    assert english.text == (
        "Hello Globex Corp team,\n"
        "\n"
        "We are seeing an outage that affects the EU API, and your team may be affected too."
        " We are telling every affected customer right away, and restoring the service is our"
        " top priority.\n"
        "\n"
        "*What we are doing:* We are rolling back release 4.2.\n"
        f"*When you will hear from us next:* {EN_DUE}, even if nothing has changed by then.\n"
        "\n"
        "If you see something different from what we describe, reply here: it helps us fix it"
        " faster."
    )
    hebrew = render_broadcast(
        language="he",
        customer="מגדל נתונים",
        affected="ה-API באירופה",
        doing="אנחנו מחזירים את גרסה 4.2 לאחור.",
        next_due=DUE,
        zone="Asia/Jerusalem",
    )
    assert f"שמשפיעה על {FSI}ה-API באירופה{PDI}, וייתכן" in hebrew.text
    assert f"*מתי תשמעו מאיתנו שוב:* {HE_DUE}, גם אם" in hebrew.text


@pytest.mark.parametrize("language", ["en", "he"])
@pytest.mark.parametrize("kind", sorted(KIND_LABELS))
def test_every_kind_has_its_template_in_both_languages(kind: str, language: str) -> None:
    message = render_update(
        kind=kind,
        language=language,
        customer="Initech",
        experienced="x",
        doing="y",
        next_steps=[],
        next_due=DUE,
        zone="America/New_York",
    )
    name = KIND_TEMPLATES[kind]
    assert message.template == f"{language}/{name}.md.j2"
    assert (PACKAGE_TEMPLATES / language / f"{name}.md.j2").is_file()
    opening = message.text.split("\n")[2]
    assert opening and "{{" not in message.text and "{%" not in message.text
    assert "*" not in opening
    assert "08:30 EST" in message.text or "שעון החוף המזרחי" in message.text
    assert message.findings == ()


def test_each_kind_opens_in_its_own_words() -> None:
    openings = {
        render_update(
            kind=kind,
            language="en",
            customer="Initech",
            experienced="x",
            doing="y",
            next_steps=[],
            next_due=DUE,
            zone="UTC",
        ).text.split("\n")[2]
        for kind in KIND_TEMPLATES
        if KIND_TEMPLATES[kind] != "generic"
    }
    assert len(openings) == 9


def test_untriaged_and_unknown_kinds() -> None:
    assert template_for("untriaged") == "generic"
    with pytest.raises(ValueError, match="'outgae' is not a crisis kind"):
        template_for("outgae")


def test_a_language_without_templates_gets_english() -> None:
    message = render_frame(text="Hola", language="fr", next_due=DUE, zone="Europe/Paris")
    assert message.language == "en"
    assert "Tuesday, 1 December at 14:30 CET" in message.text


def test_everything_typed_is_escaped_so_nothing_mentions_or_links() -> None:
    message = render_update(
        kind="technical_issue",
        language="en",
        customer="<!channel> & Co",
        experienced="<@U0CHEN> said <https://evil.example|click here>",
        doing="<!subteam^S0TEAM> & <#C0CRISIS>",
        next_steps=["<!here>"],
        next_due=DUE,
        zone="UTC",
    )
    assert "Hello &lt;!channel&gt; &amp; Co team," in message.text
    assert "&lt;@U0CHEN&gt; said &lt;https://evil.example|click here&gt;" in message.text
    assert "&lt;!subteam^S0TEAM&gt; &amp; &lt;#C0CRISIS&gt;" in message.text
    assert "• &lt;!here&gt;" in message.text
    # The only Slack token left is the date we wrote.
    assert re.findall(r"<[^>]*>", message.text) == [
        "<!date^1796131800^{date_short_pretty} at {time}|Tuesday, 1 December at 13:30 UTC>"
    ]
    frame = render_frame(text="<!everyone> a < b", language="he", next_due=DUE, zone="UTC")
    assert frame.text.startswith("&lt;!everyone&gt; a &lt; b\n")


def test_a_hebrew_name_in_an_english_message_is_an_isolate() -> None:
    message = render_check_in(language="en", customer="מגדל נתונים 2", resolved="Done 3.")
    assert message.text.startswith(f"Hello {FSI}מגדל נתונים 2{PDI} team,")
    assert "*What was resolved:* Done 3.\n" in message.text


def test_blaming_words_come_back_as_findings() -> None:
    message = render_frame(
        text="This was user error: you should have rotated the key.",
        language="en",
        next_due=DUE,
        zone="UTC",
    )
    assert [f.words for f in message.findings] == ["user error", "you should have"]
    assert message.text.startswith("This was user error")  # a warning, never a block


def test_templates_dir_overrides_one_template_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "outage.md.j2").write_text(
        "Dear {{ customer }}: {{ doing }} Next: {{ next_update }}\n"
    )
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "frame.md.j2").write_text("{{ text }}\n\nProchaine: {{ next_update }}\n")
    settings = load_settings(templates_dir=str(tmp_path))
    assert settings.templates_dir == tmp_path
    overridden = render_update(
        kind="service_outage",
        language="en",
        customer="Globex <Corp>",
        experienced="x",
        doing="Rolling back.",
        next_steps=[],
        next_due=DUE,
        zone="Europe/Berlin",
        templates_dir=settings.templates_dir,
    )
    assert overridden.text == f"Dear Globex &lt;Corp&gt;: Rolling back. Next: {EN_DUE}"
    shipped = render_update(
        kind="billing_financial",
        language="en",
        customer="Globex",
        experienced="x",
        doing="y",
        next_steps=[],
        next_due=DUE,
        zone="UTC",
        templates_dir=settings.templates_dir,
    )
    assert shipped.template == "en/billing.md.j2"
    assert "our finance team" in shipped.text
    french = render_frame(
        text="Bonjour", language="fr", next_due=DUE, zone="Europe/Paris", templates_dir=tmp_path
    )
    assert french.language == "fr"
    assert french.text.startswith("Bonjour\n\nProchaine: <!date^")


def test_templates_dir_is_read_from_the_environment_and_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CRISISBOT_TEMPLATES_DIR", str(tmp_path))
    assert load_settings().templates_dir == tmp_path
    monkeypatch.setenv("CRISISBOT_TEMPLATES_DIR", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match=r"CRISISBOT_TEMPLATES_DIR: .* is not a directory"):
        load_settings()
    monkeypatch.delenv("CRISISBOT_TEMPLATES_DIR")
    assert load_settings().templates_dir is None


def test_the_templates_ship_with_the_package() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["bot"]
    bot = PACKAGE_TEMPLATES.parents[1]
    for template in PACKAGE_TEMPLATES.rglob("*.j2"):
        relative = template.relative_to(bot)
        assert any(relative.match(pattern) for pattern in globs), relative
