"""``crisisbot accounts`` as an operator runs it: a real process, the emulator as Slack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import Emulator
from tests.conftest import BOT_TOKEN

HEADER = (
    "name,aliases,tier,csm,team,timezone,business_hours,language,customer_channel,"
    "cadence_sev1,cadence_sev2,cadence_sev3,cadence_sev4"
)


@pytest.fixture
def env(tmp_path: Path, emulator: Emulator) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CRISISBOT_"))}
    return clean | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": emulator.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "CRISISBOT_TIMEZONE": "Europe/London",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }


def accounts(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crisisbot.cli", "accounts", *args],
        env=env,
        cwd=cwd,
        text=True,
        capture_output=True,
        timeout=60,
    )


def test_import_resolves_emails_and_round_trips(
    env: dict[str, str], tmp_path: Path, emulator: Emulator
) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text(
        f"{HEADER},owner_notes\n"
        "Globex Corp,Globex,strategic,chen@acme.example,U0BEN;ana@acme.example,"
        "America/New_York,,en,C0SHARED,15m,,,,likes email\n"
        "Initech,,,,,,,,,,,,,\n",
        encoding="utf-8",
    )
    dry = accounts("import", str(source), "--dry-run", env=env, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.strip() == (
        "2 accounts would be created, 0 updated, 0 unchanged (dry run: nothing written)"
    )
    listed = accounts("list", env=env, cwd=tmp_path)
    assert listed.stdout.strip() == "no accounts yet: crisisbot accounts import FILE.csv"

    done = accounts("import", str(source), env=env, cwd=tmp_path)
    assert done.stdout.strip() == "2 accounts were created, 0 updated, 0 unchanged"
    assert len(emulator.calls_to("users.lookupByEmail")) == 4  # the dry run and the import

    exported = tmp_path / "exported.csv"
    accounts("export", str(exported), env=env, cwd=tmp_path)
    assert exported.read_text(encoding="utf-8").splitlines() == [
        HEADER,
        "Globex Corp,Globex,strategic,U0CHEN,U0BEN;U0ANA,America/New_York,"
        "Mon-Fri 09:00-17:00,en,C0SHARED,15m,,,",
        "Initech,,,,,Europe/London,Mon-Fri 09:00-17:00,en,,,,,",
    ]
    again = accounts("import", str(exported), env=env, cwd=tmp_path)
    assert again.stdout.strip() == "0 accounts were created, 0 updated, 2 unchanged"
    table = accounts("list", env=env, cwd=tmp_path).stdout.splitlines()
    assert table[0].split() == HEADER.split(",")
    assert table[1].startswith("Globex Corp  Globex   strategic  U0CHEN")


def test_a_bad_file_imports_nothing_and_names_every_bad_row(
    env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text(
        f"{HEADER}\n"
        "Hooli,,,gavin@hooli.example,,,,,,,,,\n"
        "Pied Piper,,,U0ANA,,,,klingon,,,,,\n"
        "Aviato,,,U0ANA,,,,,,,,,\n",
        encoding="utf-8",
    )
    result = accounts("import", str(source), env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "line 2: csm: no one in the workspace has the email gavin@hooli.example: use their"
        " Slack email or their user id (U…)",
        "line 3: language: 'klingon' is not a language we write in: use en (English) or he"
        " (Hebrew)",
        f"crisisbot: {source}: nothing imported",
    ]
    listed = accounts("list", env=env, cwd=tmp_path)
    assert "no accounts yet" in listed.stdout  # Aviato, which was fine, is not imported either


def test_a_missing_file_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    result = accounts("import", "nowhere.csv", env=env, cwd=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (
        2,
        "crisisbot: nowhere.csv: no such file",
    )


def test_each_workspace_has_its_own_accounts(
    env: dict[str, str], tmp_path: Path, emulator: Emulator
) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text(f"{HEADER}\nGlobex Corp,,,,,,,,,,,,\n", encoding="utf-8")
    first = accounts("--team", "T0CRISIS", "import", str(source), env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    # The same name in another workspace is another account, not an update.
    second = accounts("--team", "T0SECOND", "import", str(source), env=env, cwd=tmp_path)
    assert second.stdout.startswith("1 accounts were created"), second.stdout + second.stderr
    assert "Globex Corp" in accounts("--team", "T0SECOND", "list", env=env, cwd=tmp_path).stdout
    assert "Globex Corp" not in accounts("--team", "T0OTHER", "list", env=env, cwd=tmp_path).stdout
