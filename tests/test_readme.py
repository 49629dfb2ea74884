"""The README stays true: every setting the code reads is in its settings table."""

import re
from pathlib import Path

from bot.config import Settings, env_name

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"^\| `([A-Z_0-9]+)` \|", README.read_text(), re.MULTILINE))
    names = {env_name(field) for field in Settings.model_fields}
    assert names - documented == set(), "add these to the README's settings table"
    assert documented - names == set(), "the README documents settings the code no longer reads"


def test_the_readme_names_the_make_targets_that_exist() -> None:
    makefile = (README.parent / "Makefile").read_text()
    for target in re.findall(r"make ([\w-]+)", README.read_text()):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"make {target} is not a target"
