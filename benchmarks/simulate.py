"""Benchmark: `simulate` over 91 days, 8 deploys per day (weekends included), 2 environments, with the
bundled policy (no deploy_schedule: the forecast is on) and both baselines.

Usage: python benchmarks/simulate.py [--repeat 3]   (target < 2 s)

Prints wall and CPU time of each repetition and, as a same-run reference for a shared machine, the
time of a fixed pure-Python loop (10 million additions) and the load average. `--repeat 0` does all but
the replay (imports, the policy, the scenario, one reference loop): under `valgrind --tool=callgrind`,
the instructions of `--repeat 1` minus those of `--repeat 0` are the replay's, whatever the machine's load
(measure with `PYTHONHASHSEED=0`, so that string hashing cannot vary them from run to run).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from scheduler.policy.model import load_policy
from scheduler.simulate import parse_scenario, simulate

REPO = Path(__file__).resolve().parents[1]
HOURLY = [0.45, 0.35, 0.28, 0.22, 0.2, 0.22, 0.3, 0.45, 0.6, 0.7, 0.75, 0.78]
HOURLY += [0.82, 0.9, 0.97, 1.0, 0.98, 0.92, 0.85, 0.78, 0.7, 0.62, 0.55, 0.5]
MIX = {  # the bundled month's nature mix
    "background_scheduling": 0.32,
    "index_and_constraint": 0.24,
    "ddl_cleanup": 0.2,
    "data_migration": 0.1,
    "no_op": 0.1,
    "unknown": 0.04,
}


def reference_loop() -> float:
    """Seconds a fixed pure-Python loop (10 million additions) takes now."""
    started, total = time.perf_counter(), 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def main() -> None:
    """Print the timing and the size of the replay."""
    raw = {
        "start": "2026-01-05T00:00:00Z",
        "days": 91,
        "environments": ["gstg", "gprd"],
        "traffic": {"hourly": HOURLY, "weekend_factor": 0.5, "peak_threshold": 0.7},
        "deploys": {
            "generate": {
                "per_day": 8,
                "weekend_per_day": 8,
                "seed": 90,
                "hours": [0, 22],
                "mix": MIX,
            }
        },
    }
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    policy = load_policy((REPO / "examples" / "policy.yaml").read_text(encoding="utf-8"))
    if args.repeat == 0:
        parse_scenario(raw)
        print(f"no replay; reference loop {reference_loop():.2f} s; load {os.getloadavg()[0]:.1f}")
        return
    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        scenario = parse_scenario(raw)
        result = simulate(scenario, policy)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"simulate (policy + 2 baselines): {wall:.2f} s wall, {cpu:.2f} s CPU (target < 2 s); "
            f"reference loop {reference_loop():.2f} s; load {os.getloadavg()[0]:.1f}"
        )
    migrations = sum(len(d.migrations) for d in scenario.deploy_list)
    runs = {name: m.runs for name, m in result.metrics.items()}
    print(
        f"91 days, {len(scenario.deploy_list)} deploys, {migrations} migrations, 2 environments: runs {runs}"
    )


if __name__ == "__main__":
    main()
