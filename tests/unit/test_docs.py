"""The README and docs/ name only what exists (`make docs-check` runs this file).

Every `make` target, `NEWSFLOW_*` variable and `newsflow` CLI command they name must exist, every
setting must be in the README's configuration table, and no document narrates past runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from newsflow.cli.main import app
from newsflow.shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Variables that are not settings: the test suite's own.
NOT_SETTINGS = {"NEWSFLOW_TEST_REDIS_URL"}


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _make_targets() -> set[str]:
    makefile = _text(ROOT / "Makefile")
    return set(re.findall(r"(?m)^([A-Za-z][\w-]*)\s*:(?!=)", makefile))


def _setting_variables() -> set[str]:
    return {f"NEWSFLOW_{name.upper()}" for name in Settings.model_fields}


def _cli_commands() -> dict[str, set[str]]:
    group = typer.main.get_command(app)
    commands = getattr(group, "commands", None)
    assert isinstance(commands, dict) and commands, "the CLI has no commands"
    return {name: set(getattr(cmd, "commands", {}) or {}) for name, cmd in commands.items()}


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_make_targets_named_exist(path: Path) -> None:
    targets = _make_targets()
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", _text(path)))
    assert named - targets == set(), f"{path.name} names make targets that do not exist"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_environment_variables_named_exist(path: Path) -> None:
    known = _setting_variables() | NOT_SETTINGS
    named = set()
    for match in re.finditer(r"\bNEWSFLOW_[A-Z0-9_]*[A-Z0-9]", _text(path)):
        name = match.group(0)
        # "NEWSFLOW_DEDUP_NUM_PERM / _BANDS / _ROWS" names three settings in one cell
        named.add(name)
    assert named - known == set(), f"{path.name} names variables that are no setting"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_cli_commands_named_exist(path: Path) -> None:
    commands = _cli_commands()
    text = _text(path)
    wrong = []
    pattern = r"(?:`|uv run |^\s*)newsflow ([a-z][\w-]*)(?: ([a-z][\w-]*))?"
    for match in re.finditer(pattern, text, re.MULTILINE):
        command, sub = match.group(1), match.group(2)
        if command not in commands or (
            commands[command] and sub is not None and sub not in commands[command]
        ):
            wrong.append(match.group(0).strip())
    assert wrong == [], f"{path.name} names CLI commands that do not exist"


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    readme = _text(ROOT / "README.md")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = " ".join(line for line in table.splitlines() if line.startswith("|"))
    listed = set(re.findall(r"NEWSFLOW_[A-Z0-9_]*[A-Z0-9]", rows))
    # one row may list siblings: `NEWSFLOW_DEDUP_NUM_PERM` / `_BANDS` / `_ROWS`
    for stem, tail in re.findall(r"(NEWSFLOW_[A-Z]+)_[A-Z0-9_]+`((?:\s*/\s*`_[A-Z0-9_]+`)+)", rows):
        listed |= {stem + suffix for suffix in re.findall(r"`(_[A-Z0-9_]+)`", tail)}
    missing = _setting_variables() - listed
    assert missing == set(), "settings missing from the README's configuration table"


def test_the_readme_is_short() -> None:
    assert len(_text(ROOT / "README.md").encode()) <= 15_500


# Phrases of a lab notebook, not of a product's documents.
HISTORY = re.compile(
    r"\b(?:earlier runs?|last run|previous run|the run before|runs? [A-H](?:\s*[·,]\s*[A-H])+"
    r"|in an earlier session|we tried|used to be)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_no_document_narrates_past_runs(path: Path) -> None:
    found = [m.group(0) for m in HISTORY.finditer(_text(path))]
    assert found == [], f"{path.name} narrates past runs"
