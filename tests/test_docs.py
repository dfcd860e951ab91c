"""Every command and option has help text, every command is in the README, and the README's layout
section lists every module (as sqlite-utils' tests/test_docs.py does)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from miner.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands.items())


@pytest.mark.parametrize(("name", "command"), COMMANDS)
def test_every_command_and_option_has_help(name: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"`miner {name}` has no help text"
    for param in command.params:
        if isinstance(param, click.Option):
            assert (param.help or "").strip(), f"`miner {name} {param.opts[0]}` has no help text"


@pytest.mark.parametrize("name", [name for name, _ in COMMANDS])
def test_every_command_is_in_the_readme(name: str) -> None:
    assert re.search(rf"^miner {name}\b", README, re.MULTILINE), f"the README shows no `miner {name}` command line"


def test_the_layout_section_lists_every_module() -> None:
    layout = README.split("## Layout", 1)[1]
    package = ROOT / "miner"
    modules = {p.stem for p in package.glob("*.py") if p.stem not in {"__init__", "__main__"}}
    folders = {p.name for p in package.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    for folder in folders:
        modules |= {p.stem for p in (package / folder).glob("*.py") if p.stem != "__init__"}
    missing = sorted(m for m in modules | {f"{f}/" for f in folders} if not re.search(rf"\b{re.escape(m)}", layout))
    assert not missing, f"the README's layout section does not mention {missing}"
