"""The `pdm-bot` click group: one module per command family, imported on use (`bot/cli.py` is the entry).

`pdm-bot --help` lists the commands from the table below without importing them (the serve and worker
commands pull in Flask, gunicorn, RQ and the Slack SDK); a command's module is imported only when it runs
or shows its own help. `tests/unit/bot/test_cli_lazy.py` checks the table against the real commands.
"""

from __future__ import annotations

import importlib

import click

# name → (module, attribute, first paragraph of the command's docstring: what `--help` lists, cut to fit)
CLI_COMMANDS: dict[str, tuple[str, str, str]] = {
    "check-config": (
        "bot.cli_check_config",
        "check_config",
        "Validate a policy file; print every error with its key path (exit 2) or a summary.",
    ),
    "classify": (
        "bot.cli_classify",
        "classify",
        "Classify post-deploy migrations by nature: files, or directories searched for *.rb.",
    ),
    "cron": (
        "bot.cli_worker",
        "cron",
        "Enqueue `evaluate` for every environment and `reconcile`, once per slot (safe with two instances).",
    ),
    "plan": (
        "bot.cli_plan",
        "plan",
        "Show what would run when, and why, for the migrations added between two revisions.",
    ),
    "serve": ("bot.cli_serve", "serve", "Serve /slack/events, /webhooks/gitlab, /healthz and /metrics."),
    "simulate": (
        "bot.cli_simulate",
        "simulate_command",
        "Backtest a policy on a scenario against the daily_manual and after_each_deploy baselines.",
    ),
    "worker": ("bot.cli_worker", "worker", "Run the RQ worker (with its scheduler) for queue `pdm`."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when one is looked up, never to list them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(CLI_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = CLI_COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, attribute, _ = entry
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands and their short help, cut the way click cuts them, from the table."""
        limit = formatter.width - 6 - max(len(name) for name in CLI_COMMANDS)
        # a stand-in Command with the same help text cuts it exactly as the real one would
        rows = [
            (name, click.Command(name, help=text).get_short_help_str(limit))
            for name, (_, _, text) in sorted(CLI_COMMANDS.items())
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """pdm-bot: run post-deploy migrations at a time suited to their nature."""
