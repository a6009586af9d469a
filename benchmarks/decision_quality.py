"""Decision quality: the policy against `daily_manual` on generated deploy cadences × seeds.

Usage: python benchmarks/decision_quality.py [--policy examples/policy-auto.yaml] [--history-weeks 0]
                                             [--days 28] [--seeds 1 2 3] [--summary]

Every scenario is generated (`deploys.generate`) with no `deploy_schedule` in the policy: expected deploys
come from the forecast, learnt only from deploys before each simulated instant (plus `--history-weeks` of
known history before the start). Prints one markdown row per scenario and checks the issue's targets:
heavy at peak 0; deploy blocked and rollback unavailable ≤ 10 % of daily_manual; light p50 ≤ 24 h;
heavy p95 ≤ 7 days (the heavy migrations together, as `light` pools the light natures; the worst single
nature's p95 is printed beside it and counted separately); pending at end ≤ daily_manual; human actions
(approvals, `/pdm run`s) ≤ 50 % of daily_manual's. `heavy load`
is the heavy work as a share of the weekend time no deploy holds: above 100 % no policy that keeps heavy
natures to the weekend can drain the backlog without delaying deploys. `--summary` prints one row per
cadence over all the seeds instead (how many meet every target, the spread of each metric, the targets
missed).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from simulate import HOURLY, MIX

from scheduler.natures import ALL_NATURES
from scheduler.policy.model import load_policy
from scheduler.simulate import parse_scenario, simulate
from scheduler.simulate.engine import Outcome
from scheduler.simulate.metrics import Metrics, percentile
from scheduler.simulate.scenario import Scenario

REPO = Path(__file__).resolve().parents[1]
CADENCES: dict[str, dict[str, Any]] = {
    "every 2 h": {"per_day": 12, "weekend_per_day": 12},
    "every 3 h": {"per_day": 8, "weekend_per_day": 8},
    "every 4 h": {"per_day": 6, "weekend_per_day": 6},
    "every 6 h": {"per_day": 4, "weekend_per_day": 4},
    "every 4 h on the clock": {"per_day": 6, "weekend_per_day": 6, "jitter_minutes": 10},
    "every 3 h on the clock": {"per_day": 8, "weekend_per_day": 8, "jitter_minutes": 10},
    "weekdays only": {"per_day": [4, 8], "weekend_per_day": 0, "hours": [0, 22]},
    "busy weekdays, quiet weekends": {"per_day": [8, 12], "weekend_per_day": [0, 1]},
    "office hours": {"per_day": [3, 6], "weekend_per_day": 0, "hours": [8, 18]},
    "weekends with a few": {"per_day": [4, 8], "weekend_per_day": [1, 2], "hours": [0, 22]},
    "release-day bursts": {
        "per_day": [3, 5],
        "weekend_per_day": 0,
        "hours": [0, 22],
        "bursts": [{"weekday": 3, "per_day": 12}],
    },
}


def scenario(cadence: dict[str, Any], seed: int, days: int, history_weeks: int) -> dict[str, Any]:
    """A generated two-environment scenario of `cadence`."""
    return {
        "name": f"seed {seed}",
        "start": "2026-02-02T00:00:00Z",
        "days": days,
        "environments": ["gstg", "gprd"],
        "traffic": {"hourly": HOURLY, "weekend_factor": 0.5, "peak_threshold": 0.7},
        "deploys": {
            "generate": {
                **cadence,
                "seed": seed,
                "promote_minutes": 150,
                "migrations_per_deploy": [0, 3],
                "mix": MIX,
                "tables": 60,
                "history_weeks": history_weeks,
            }
        },
    }


def heavy_load(parsed: Scenario) -> float:
    """Heavy migration minutes as a share of the weekend minutes no deploy holds (per environment, the
    weekend being where the policy runs heavy natures): above 1 the backlog cannot drain without
    delaying deploys."""
    heavy = sum(m.duration_minutes for d in parsed.deploy_list for m in d.migrations if m.nature.is_heavy)
    held = sum(d.duration_minutes for d in parsed.deploy_list if d.at.weekday() >= 5)
    weekends = sum(1 for k in range(parsed.days) if (parsed.start + timedelta(days=k)).weekday() >= 5)
    free = weekends * 24 * 60 * len(parsed.environments) - held
    return heavy / free if free > 0 else float("inf")


def ratio(policy: float, manual: float) -> str:
    """`policy / manual` as a percentage (0 % when both are 0)."""
    if manual == 0:
        return "0 %" if policy == 0 else "∞"
    return f"{100 * policy / manual:.0f} %"


def worst_heavy_p95(m: Metrics) -> float:
    """The worst p95 latency (h) over the heavy natures that ran, nature by nature."""
    return max((p.p95 for n, p in m.latency_hours.items() if n.is_heavy and p.p95 is not None), default=0.0)


def heavy_p95(outcome: Outcome) -> float:
    """The p95 latency (h) of the heavy migrations that ran, all natures together (as `light` pools
    no_op and background_scheduling)."""
    hours = [
        (e.start - e.pending_since).total_seconds() / 3600
        for run in outcome.runs
        for e in run.executions
        if e.nature.is_heavy
    ]
    return round(percentile(hours, 95), 2) if hours else 0.0


def check(m: Metrics, base: Metrics, heavy: float) -> list[str]:
    """The targets this scenario misses (`heavy`: the pooled heavy p95)."""
    missed = []
    if m.heavy_peak_executions:
        missed.append("heavy at peak")
    if m.deploy_blocked_minutes > 0.1 * base.deploy_blocked_minutes:
        missed.append("blocked")
    if m.rollback_unavailable_hours > 0.1 * base.rollback_unavailable_hours:
        missed.append("rollback")
    if (m.light_latency.p50 or 0) > 24:
        missed.append("light p50")
    if heavy > 7 * 24:
        missed.append("heavy p95")
    if m.pending_at_end > base.pending_at_end:
        missed.append("pending")
    if m.human_actions > 0.5 * base.human_actions:
        missed.append("human actions")
    return missed


@dataclass(frozen=True)
class Row:
    """One scenario's outcome."""

    cadence: str
    seed: int
    policy: Metrics
    manual: Metrics
    load: float
    heavy: float  # pooled heavy p95 (h)

    @property
    def missed(self) -> list[str]:
        """The targets missed."""
        return check(self.policy, self.manual, self.heavy)

    @property
    def by_nature(self) -> bool:
        """Whether every target is met with heavy p95 read nature by nature (the worst one)."""
        return not self.missed and worst_heavy_p95(self.policy) <= 7 * 24

    def line(self) -> str:
        """The scenario's markdown row."""
        m, base, missed = self.policy, self.manual, self.missed
        return (
            f"| {self.cadence} | {self.seed} | {m.deploy_blocked_minutes} / {base.deploy_blocked_minutes} "
            f"({ratio(m.deploy_blocked_minutes, base.deploy_blocked_minutes)}) "
            f"| {m.rollback_unavailable_hours:g} / {base.rollback_unavailable_hours:g} "
            f"| {m.heavy_peak_executions} / {base.heavy_peak_executions} "
            f"| {m.light_latency.p50} / {base.light_latency.p50} | {self.heavy:g} / {worst_heavy_p95(m):g} "
            f"| {m.pending_at_end} / {base.pending_at_end} | {m.human_actions} / {base.human_actions} "
            f"| {m.runs} / {base.runs} "
            f"| {self.load:.0%} | {'all met' if not missed else 'missed: ' + ', '.join(missed)} |"
        )


def spread(values: Sequence[float], unit: str = "") -> str:
    """`lowest–highest` (one value when they agree)."""
    low, high = min(values), max(values)
    return f"{low:g}{unit}" if low == high else f"{low:g}–{high:g}{unit}"


def summary(name: str, rows: list[Row]) -> str:
    """One markdown row for a cadence over its seeds."""
    blocked = [
        round(100 * r.policy.deploy_blocked_minutes / r.manual.deploy_blocked_minutes)
        for r in rows
        if r.manual.deploy_blocked_minutes
    ]
    missed = Counter(t for r in rows for t in r.missed)
    human = [round(100 * r.policy.human_actions / (r.manual.human_actions or 1)) for r in rows]
    return (
        f"| {name} | {sum(not r.missed for r in rows)} / {len(rows)} | {spread(blocked or [0], ' %')} "
        f"| {spread([r.policy.light_latency.p50 or 0 for r in rows])} "
        f"| {spread([round(r.heavy, 1) for r in rows])} "
        f"| {spread([round(worst_heavy_p95(r.policy), 1) for r in rows])} "
        f"| {spread(human, ' %')} "
        f"| {spread([round(100 * r.load) for r in rows], ' %')} "
        f"| {', '.join(f'{t} ({n})' for t, n in missed.most_common()) or '–'} |"
    )


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--policy", default=str(REPO / "examples" / "policy-auto.yaml"))
    parser.add_argument("--history-weeks", type=int, default=0)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--summary", action="store_true", help="one row per cadence over the seeds")
    args = parser.parse_args()
    policy = load_policy(Path(args.policy).read_text(encoding="utf-8"))
    if args.summary:
        print(
            "| cadence | all met | blocked (share of manual) | light p50 h | heavy p95 h | worst nature's "
            "heavy p95 h | human actions (share of manual) | heavy load | missed (scenarios) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    else:
        print(
            "| cadence | seed | blocked min (policy / manual) | rollback h (policy / manual) | heavy at peak "
            "(policy / manual) | light p50 h (policy / manual) | heavy p95 h (all / worst nature) "
            "| pending at end (policy / manual) | human actions (policy / manual) | runs | heavy load "
            "| targets |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    started, met, strict, total, blocked = time.perf_counter(), 0, 0, 0, [0, 0]
    for name, cadence in CADENCES.items():
        rows = []
        for seed in args.seeds:
            parsed = parse_scenario(scenario(cadence, seed, args.days, args.history_weeks))
            result = simulate(parsed, policy)
            metrics = result.metrics
            row = Row(
                name,
                seed,
                metrics["policy"],
                metrics["daily_manual"],
                heavy_load(parsed),
                heavy_p95(result.policy),
            )
            met, strict, total = met + (not row.missed), strict + row.by_nature, total + 1
            blocked[0] += row.policy.deploy_blocked_minutes
            blocked[1] += row.manual.deploy_blocked_minutes
            rows.append(row)
            if not args.summary:
                print(row.line())
        if args.summary:
            print(summary(name, rows))
    natures = ", ".join(n.value for n in ALL_NATURES)
    print(
        f"\n{met} of {total} scenarios meet every target ({strict} with heavy p95 read nature by nature; "
        f"{args.days} days each, seeds "
        f"{spread(args.seeds)}, history {args.history_weeks} weeks, natures {natures}); deploys blocked "
        f"{blocked[0]:,} minutes in all (daily_manual {blocked[1]:,}); {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
