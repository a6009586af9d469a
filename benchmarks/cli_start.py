"""Benchmark how fast `pdm-bot` starts: `pdm-bot --help` and `pdm-bot classify ONE_FILE`.

Usage: .venv/bin/python benchmarks/cli_start.py [--runs 15]

Each command runs as a fresh process (the installed `pdm-bot` console script next to this Python), `--runs`
times; the median and the fastest wall time are printed next to the same-run reference `python -c pass`
(the interpreter's own start on this machine, at this moment). Targets: `--help` ≤ 0.3 s, `classify` of one
file ≤ 0.5 s. Exit 1 when a median misses its target.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("pdm-bot")
ONE_FILE = ROOT / "tests" / "corpus" / "20260105124900_add_index_on_ci_builds_project_id_and_status.rb"


def timed(command: list[str], runs: int) -> list[float]:
    """Wall times of `runs` executions of `command` (output discarded; a failure stops the benchmark)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    """Measure, print, exit 1 on a missed target."""
    parser = argparse.ArgumentParser(description="Benchmark pdm-bot start-up")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    cases = [
        ("reference: python -c pass", [sys.executable, "-c", "pass"], None),
        ("pdm-bot --help", [str(SCRIPT), "--help"], 0.3),
        ("pdm-bot classify ONE_FILE", [str(SCRIPT), "classify", str(ONE_FILE)], 0.5),
    ]
    missed = []
    for label, command, target in cases:
        times = timed(command, args.runs)
        median = statistics.median(times)
        verdict = (
            ""
            if target is None
            else (f"  target ≤ {target:.1f} s: " + ("ok" if median <= target else "MISSED"))
        )
        print(f"{label:<28} median {median * 1000:6.0f} ms   fastest {min(times) * 1000:6.0f} ms{verdict}")
        if target is not None and median > target:
            missed.append(label)
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
