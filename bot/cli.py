"""The `pdm-bot` command line: one click group, one module per command family."""

from __future__ import annotations

import click

from bot.cli_check_config import check_config
from bot.cli_classify import classify
from bot.cli_plan import plan
from bot.cli_serve import serve
from bot.cli_simulate import simulate_command
from bot.cli_worker import cron, worker


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """pdm-bot: run post-deploy migrations at a time suited to their nature."""


cli.add_command(classify)
cli.add_command(plan)
cli.add_command(check_config)
cli.add_command(serve)
cli.add_command(simulate_command)
cli.add_command(worker)
cli.add_command(cron)


def main() -> None:
    """Console-script entry point."""
    cli()
