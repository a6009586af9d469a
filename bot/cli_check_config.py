"""`pdm-bot check-config`: validate the policy file and list every error with its key path."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from bot.cli_support import ExitCode, guarded
from scheduler.policy.model import InvalidPolicy, Policy, load_policy
from scheduler.policy.reachability import never_runs
from scheduler.policy.windows import format_duration
from scheduler.settings import Settings


def summarise(policy: Policy) -> list[str]:
    """A few lines describing a valid policy."""
    envs = ", ".join(e.name + (f" (after {e.requires})" if e.requires else "") for e in policy.environments)
    lines = [f"environments: {envs}"]
    for spec in policy.windows:
        window = spec.to_window(policy.timezone)
        manual = " (yields to /pdm run --now)" if spec.manual else ""
        lines.append(f"window {spec.name} [{spec.kind.value}]: {window.describe()}{manual}")
    for nature, entry in sorted(policy.natures.items(), key=lambda kv: kv[0].rank):
        lines.append(f"nature {nature.value}: {entry.mode.value} in {', '.join(entry.windows)}")
    g = policy.guards
    forecast = g.deploy_forecast
    if g.deploy_schedule is not None:
        lines.append(f"expected deploys: '{g.deploy_schedule}' for {format_duration(g.deploy_duration)}")
    elif forecast is not None:
        lines.append(
            f"expected deploys: forecast from the last {format_duration(forecast.lookback)} of deploys "
            f"(slots seen in >= {forecast.min_share:.0%} of the weeks, and in 3 of 4 or more often than "
            "the pace of deploys explains"
            + ("; from the minute their deploys start at)" if forecast.slot_start == "minute" else ")")
        )
    else:
        lines.append("expected deploys: none (deploy_schedule null, deploy_forecast off)")
    lines.append(f"ordering: {policy.ordering.value}")
    return lines


@click.command("check-config")
@click.option("--policy", "policy_file", default=None, help="Policy YAML (default: PDM_POLICY_FILE).")
@guarded
def check_config(policy_file: str | None) -> None:
    """Validate a policy file; print every error with its key path (exit 2) or a summary.

    A valid policy under which a nature can never run (its windows stay closed, or never open long
    enough for its shortest run) gets a warning per nature on stderr; the exit code stays 0.

    \b
    Example:
      pdm-bot check-config --policy examples/policy.yaml
    """
    path = policy_file or Settings().policy_file
    text = Path(path).read_text(encoding="utf-8")
    try:
        policy = load_policy(text)
    except InvalidPolicy as exc:
        for error in exc.errors:
            click.echo(f"{path}: {error}", err=True)
        click.echo(f"{path}: {len(exc.errors)} error(s)", err=True)
        sys.exit(ExitCode.USAGE)
    click.echo(f"{path}: valid")
    for line in summarise(policy):
        click.echo(f"  {line}")
    for warning in never_runs(policy, datetime.now(UTC)):
        click.echo(f"{path}: warning: {warning}", err=True)
