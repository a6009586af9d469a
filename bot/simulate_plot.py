"""Timeline PNG of a simulated policy: traffic, deploys, blocked deploy time, runs by nature."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from scheduler.natures import ALL_NATURES, Nature
from scheduler.simulate.engine import Outcome
from scheduler.simulate.scenario import Scenario

COLOURS: dict[Nature, str] = {
    Nature.NO_OP: "#b0b0b0",
    Nature.BACKGROUND_SCHEDULING: "#4c9f38",
    Nature.INDEX_AND_CONSTRAINT: "#1f77b4",
    Nature.DATA_MIGRATION: "#9467bd",
    Nature.DDL_CLEANUP: "#d62728",
    Nature.UNKNOWN: "#000000",
}


def _span(start: datetime, end: datetime) -> tuple[float, float]:
    left = float(mdates.date2num(start))  # type: ignore[no-untyped-call]
    return left, max(float(mdates.date2num(end)) - left, 1 / 1440)  # type: ignore[no-untyped-call]


def plot_timeline(scenario: Scenario, outcome: Outcome, path: Path) -> None:
    """Draw the timeline of `outcome` over `scenario` into `path` (PNG)."""
    envs = scenario.environments
    fig, axes = plt.subplots(
        1 + len(envs),
        1,
        sharex=True,
        figsize=(16, 2.2 + 1.4 * len(envs)),
        gridspec_kw={"height_ratios": [2] + [1] * len(envs)},
    )
    traffic_ax, env_axes = axes[0], axes[1:]
    hours = int((scenario.end - scenario.start).total_seconds() // 3600)
    times = [scenario.start + timedelta(hours=h) for h in range(hours + 1)]
    traffic_ax.step(times, [scenario.traffic.at(t) for t in times], where="post", color="#555555", lw=0.8)
    traffic_ax.axhline(scenario.traffic.peak_threshold, color="#d62728", ls="--", lw=0.8)
    for incident in scenario.incidents:
        traffic_ax.axvspan(incident.start, incident.end, color="#ff7f0e", alpha=0.3)
    traffic_ax.set_ylabel("traffic")
    traffic_ax.set_ylim(0, 1.05)
    traffic_ax.set_title(f"pdm-bot simulate: {outcome.name}, {scenario.days} days")
    for ax, env in zip(env_axes, envs, strict=True):
        deploys = [d for d in outcome.deploys + outcome.waiting_deploys if d.environment == env]
        ax.broken_barh([_span(d.start, d.end) for d in deploys], (2, 0.8), color="#7f7f7f")
        blocked = [_span(d.scheduled, d.start) for d in deploys if d.start > d.scheduled]
        ax.broken_barh(blocked, (2, 0.8), color="#ff9896", hatch="//")
        for nature in ALL_NATURES:
            spans = [
                _span(e.start, e.end)
                for run in outcome.runs
                if run.environment == env
                for e in run.executions
                if e.nature is nature
            ]
            ax.broken_barh(spans, (1, 0.8), color=COLOURS[nature])
        lost = [
            _span(i.start, min(i.end, scenario.end))
            for i in outcome.rollback_unavailable
            if i.environment == env
        ]
        ax.broken_barh(lost, (0.2, 0.4), color="#ff7f0e")
        ax.set_yticks([0.4, 1.4, 2.4], ["no rollback", "PDM runs", "deploys"])
        ax.set_ylim(0, 3)
        ax.set_ylabel(env)
    env_axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b"))  # type: ignore[no-untyped-call]
    env_axes[-1].set_xlim(_span(scenario.start, scenario.end)[0], sum(_span(scenario.start, scenario.end)))
    legend = [Patch(color=COLOURS[n], label=n.value) for n in ALL_NATURES]
    legend += [
        Patch(color="#7f7f7f", label="deploy"),
        Patch(color="#ff9896", hatch="//", label="deploy blocked"),
        Patch(color="#ff7f0e", label="rollback unavailable / incident"),
    ]
    fig.legend(handles=legend, loc="lower center", ncol=5, fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
