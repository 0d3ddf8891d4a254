"""The lazily loaded CLI (``entrypoints/cli/__init__.py``): its list of commands is the commands' own,
``--help`` reads as click would print it with every command loaded, and loads none of them."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
from click.testing import CliRunner

from ugpp_bridge import __version__
from ugpp_bridge.entrypoints.cli import COMMANDS, main


def _loaded(name: str) -> click.Command:
    module, attribute, _ = COMMANDS[name]
    command = getattr(importlib.import_module(f"ugpp_bridge.entrypoints.cli.{module}"), attribute)
    assert isinstance(command, click.Command)
    return command


def test_every_command_is_listed_under_its_own_name_and_help() -> None:
    for name, (_, _, short_help) in COMMANDS.items():
        command = _loaded(name)
        assert command.name == name
        assert command.get_short_help_str(limit=300) == short_help, name


def test_help_lists_the_commands_as_an_eager_group_would() -> None:
    eager = click.Group(name="main", help=main.help, params=main.params)
    for name in COMMANDS:
        eager.add_command(_loaded(name), name)
    lazy = CliRunner().invoke(main, ["--help"], terminal_width=100)
    expected = CliRunner().invoke(eager, ["--help"], terminal_width=100)
    assert lazy.exit_code == 0
    assert lazy.output.split("Commands:")[1] == expected.output.split("Commands:")[1]


def test_help_and_version_load_no_command_module() -> None:
    probe = (
        "import sys\n"
        "from ugpp_bridge.entrypoints.cli import main\n"
        "try:\n"
        "    main([sys.argv[1]])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'rich', 'lxml', 'zeep', 'spyne', 'flask', 'requests',\n"
        "                     'ugpp_bridge.config', 'ugpp_bridge.entrypoints.cli.core')\n"
        "         if m in sys.modules]\n"
        "print('LOADED', heavy)\n"
    )
    for flag in ("--help", "--version"):
        done = subprocess.run([sys.executable, "-c", probe, flag], capture_output=True,
                              text=True, timeout=60, check=True)  # fmt: skip
        assert "LOADED []" in done.stdout, done.stdout + done.stderr
    assert __version__ in done.stdout


def test_an_unknown_command_is_refused_with_clicks_message() -> None:
    result = CliRunner().invoke(main, ["sned"])
    assert result.exit_code == 2 and "No such command 'sned'" in result.output
