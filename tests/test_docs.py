"""The README documents every command, and CI runs the README's own test command."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from dryneedling.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _command_paths(group: typer.Typer, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    click_group = typer.main.get_command(group)
    paths: list[tuple[str, ...]] = []

    def walk(command, path):
        for name, sub in getattr(command, "commands", {}).items():
            paths.append((*path, name))
            walk(sub, (*path, name))

    walk(click_group, prefix)
    return paths


def test_it_documents_every_cli_command_in_the_readme():
    missing = [
        " ".join(path) for path in _command_paths(app) if f"dryneedling {' '.join(path)}" not in README
    ]
    assert not missing, f"commands missing from README.md: {missing}"


def _readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", README)


def test_it_runs_the_readme_test_command_in_ci():
    test_command = next(cmd for cmd in _readme_commands() if "pytest" in cmd)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_it_gives_a_main_job_command_that_installs_the_package():
    main_command = _readme_commands()[0]
    assert "pip install ." in main_command and "dryneedling" in main_command.split("&&")[-1]
