"""`pdm-bot` imports a command's module only when that command runs; `--help` lists them from a table."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from bot.cli import CLI_COMMANDS, cli


@pytest.mark.parametrize("name", sorted(CLI_COMMANDS))
def test_the_table_matches_each_real_command(name: str) -> None:
    module, attribute, text = CLI_COMMANDS[name]
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    assert command.name == name
    assert (command.help or "").split("\n\n")[0].strip() == text


def test_help_lists_every_command_as_click_would() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    ctx = click.Context(cli, info_name="pdm-bot")
    real = {name: cli.get_command(ctx, name) for name in CLI_COMMANDS}
    limit = 80 - 6 - max(len(n) for n in CLI_COMMANDS)
    for name, command in real.items():
        assert command is not None
        assert f"  {name.ljust(12)}  {command.get_short_help_str(limit)}" in result.output


def test_help_imports_no_command_module() -> None:
    code = (
        "import sys\n"
        "from bot.cli import main\n"
        "sys.argv = ['pdm-bot', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('flask', 'rq', 'pydantic')\n"
        "print(sorted(m for m in sys.modules if m.startswith('bot.cli_') or m in heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in result.output
