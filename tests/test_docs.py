"""The documentation cannot drift from the code."""

from __future__ import annotations

from pathlib import Path

from knotwork.cli.reference import reference

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current() -> None:
    written = (ROOT / "docs" / "cli.md").read_text()
    assert written == reference(), "docs/cli.md is stale: run `make docs`"


def test_readme_opens_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text().splitlines()[:8]
    assert any(line.startswith("make demo") for line in head)
    assert any(line.startswith("make test") for line in head)


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
