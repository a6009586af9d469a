"""`pdm-bot simulate`: replay a scenario with the worker's planner and compare it with the manual
baselines (a table, `--json`, and a timeline PNG with `--plot`)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli_support import emit_json, guarded
from scheduler.natures import Nature
from scheduler.policy.model import load_policy
from scheduler.settings import Settings
from scheduler.simulate import BASELINES, Comparison, Metrics, load_scenario, simulate

_ROWS: tuple[tuple[str, str], ...] = (
    ("runs", "PDM runs"),
    ("heavy_peak_executions", "heavy migrations at peak"),
    ("deploy_blocked_minutes", "deploy blocked (min)"),
    ("rollback_unavailable_hours", "rollback unavailable (h)"),
    ("human_actions", "human actions"),
    ("pending_at_end", "pending at end"),
)


def _cell(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def table_rows(comparison: Comparison) -> list[list[str]]:
    """Header + one row per metric (latency as p50 / p95 hours per nature)."""
    names = ["policy", *BASELINES]
    metrics: list[Metrics] = [comparison.metrics[n] for n in names]
    rows = [["metric", *names]]
    for key, label in _ROWS:
        rows.append([label, *(_cell(getattr(m, key)) for m in metrics)])
    natures: list[Nature] = list(metrics[0].latency_hours)
    for nature in natures:
        cells = []
        for m in metrics:
            p = m.latency_hours[nature]
            cells.append(f"{_cell(p.p50)} / {_cell(p.p95)}")
        rows.append([f"latency {nature.value} p50/p95 (h)", *cells])
    light = [f"{_cell(m.light_latency.p50)} / {_cell(m.light_latency.p95)}" for m in metrics]
    rows.append(["latency light p50/p95 (h)", *light])
    return rows


def comparison_table(comparison: Comparison) -> str:
    """The aligned comparison table."""
    rows = table_rows(comparison)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(comparison: Comparison) -> str:
    """The same table in Markdown (for the README and docs)."""
    rows = table_rows(comparison)
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" + "---:|" * (len(rows[0]) - 1)]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(out)


@click.command("simulate")
@click.option(
    "--scenario",
    "scenario_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scenario JSON (see docs/simulate.md).",
)
@click.option("--policy", "policy_file", default=None, help="Policy YAML (default: PDM_POLICY_FILE).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--markdown", is_flag=True, help="Print the table in Markdown.")
@click.option(
    "--plot",
    "plot_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a timeline PNG of the policy's replay.",
)
@guarded
def simulate_command(
    scenario_file: Path, policy_file: str | None, as_json: bool, markdown: bool, plot_file: Path | None
) -> None:
    """Backtest a policy on a scenario against the daily_manual and after_each_deploy baselines.

    \b
    Example:
      pdm-bot simulate --scenario examples/scenarios/gitlab-month.json \\
        --policy examples/policy.yaml --plot /tmp/month.png
    """
    scenario = load_scenario(scenario_file.read_text(encoding="utf-8"))
    policy = load_policy(Path(policy_file or Settings().policy_file).read_text(encoding="utf-8"))
    comparison = simulate(scenario, policy)
    if plot_file is not None:
        from bot.simulate_plot import plot_timeline

        plot_timeline(scenario, comparison.policy, plot_file)
    if as_json:
        emit_json(comparison.to_dict())
    else:
        click.echo(markdown_table(comparison) if markdown else comparison_table(comparison))
