"""The `pdm-bot` command line: one click group, one module per command family."""

from __future__ import annotations

import click

from bot.cli_classify import classify


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """pdm-bot: run post-deploy migrations at a time suited to their nature."""


cli.add_command(classify)


def main() -> None:
    """Console-script entry point."""
    cli()
