"""Benchmark `pdm-bot classify`: generate migration files, classify them, report speed and memory.

Usage: .venv/bin/python benchmarks/classify.py [--files 5000] [--cli-files 7700] [--runs 3] [--seed 7]

1. In process: `--files` small generated files (1–4 catalog helpers each, on random tables, some in heredoc
   SQL, some conditional) through `classify_paths` (reading included), one process.
2. The command: `pdm-bot classify --json DIR` as a fresh process on `--cli-files` real-sized files (1–6 KB:
   a comment header, 2–8 helpers, a nested model class, SQL heredocs, a `down`), output discarded, process
   start included: cold (no cache), then with `--cache-dir` warm (after one run that fills the cache).
3. Same-run references: `python -c pass` (the interpreter's start) and the bare tree-sitter parse of the
   same real-sized files in this process (files per second on one core).

Each measurement runs `--runs` times; the best and the median are printed with the load average before and
after (the machine may be shared), and each command's peak resident memory (the largest of its processes).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bot.classify_files import classify_paths
from scheduler.classify.catalog import CATALOG

TABLES = ("ci_builds", "issues", "merge_requests", "projects", "namespaces", "notes", "users", "events")
SQL = (
    "UPDATE {t} SET archived = false WHERE archived IS NULL",
    "CREATE INDEX CONCURRENTLY index_{t}_on_x ON {t} (x)",
    "ALTER TABLE {t} DROP COLUMN IF EXISTS legacy",
    "DELETE FROM {t} WHERE id < 0",
)


def migration(rng: random.Random, index: int) -> str:
    """One GitLab-style post-deploy migration with a few random helpers."""
    helpers = rng.sample(sorted(CATALOG), rng.randint(1, 4))
    lines = []
    for name in helpers:
        table = rng.choice(TABLES)
        call = f"{name} :{table}, :column_{index % 7}"
        lines.append(f"    {call} if column_exists?(:{table}, :id)" if rng.random() < 0.2 else f"    {call}")
    if rng.random() < 0.4:
        statement = rng.choice(SQL).format(t=rng.choice(TABLES))
        lines.append(f"    execute <<~SQL\n      {statement}\n    SQL")
    body = "\n".join(lines)
    schema = rng.choice(("gitlab_main", "gitlab_ci", "gitlab_sec"))
    return (
        "# frozen_string_literal: true\n\n"
        f"class GeneratedMigration{index} < Gitlab::Database::Migration[2.2]\n"
        "  milestone '18.8'\n  disable_ddl_transaction!\n"
        f"  restrict_gitlab_migration gitlab_schema: :{schema}\n\n"
        f"  TABLE_NAME = :{rng.choice(TABLES)}\n\n"
        f"  def up\n{body}\n  end\n\n  def down\n    # no-op\n  end\nend\n"
    )


COMMENT = "# {text} — see doc/development/database/batched_background_migrations.md for the rationale.\n"


def real_sized(rng: random.Random, index: int) -> str:
    """A migration of the size real GitLab post-deploy migrations have (≈ 1–6 KB)."""
    base = migration(rng, index)
    header = "".join(
        COMMENT.format(text=f"Note {n} about migration {index}") for n in range(rng.randint(2, 30))
    )
    extra = [
        migration(rng, index).split("  def up\n", 1)[1].split("  end\n", 1)[0]
        for _ in range(rng.randint(0, 2))
    ]
    model = f"  class Model{index} < MigrationRecord\n    self.table_name = '{rng.choice(TABLES)}'\n  end\n\n"
    text = base.replace("  def up\n", model + "  def up\n" + "".join(extra), 1)
    return header + text.replace(
        "  def down\n    # no-op\n", "  def down\n" + "".join(extra or ["    # no-op\n"])
    )


def load() -> str:
    """The 1-minute load average and the cores, as `uptime` shows them."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def timed_runs(runs: int, action: Callable[[], int]) -> tuple[list[float], int]:
    """Wall times of `runs` calls of `action` and the largest peak memory (KB) it reported."""
    times, peak = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        peak = max(peak, action())
        times.append(time.perf_counter() - start)
    return times, peak


def run_command(command: list[str]) -> int:
    """Run `command` (output discarded); its peak resident memory in KB, the largest of its processes."""
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{command} exited {child.returncode}")
    return usage.ru_maxrss


def report(label: str, files: int, times: list[float], peak_kb: int | None = None) -> None:
    """One line: best and median, as seconds and files per second."""
    best, median = min(times), statistics.median(times)
    memory = f", peak {peak_kb / 1024:.0f} MB" if peak_kb is not None else ""
    print(
        f"  {label:<34} best {best:6.3f} s = {files / best:7,.0f} files/s; "
        f"median {median:6.3f} s = {files / median:7,.0f} files/s{memory}"
    )


def in_process(files: int, runs: int, seed: int) -> None:
    """`classify_paths` on `files` small generated files, in this process."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="pdm-bench-") as tmp:
        for i in range(files):
            (Path(tmp) / f"{20260101000000 + i}_generated_migration_{i}.rb").write_text(migration(rng, i))
        print(f"in process, {files} small generated files ({load()}):")
        times, _ = timed_runs(runs, lambda: len(classify_paths([tmp], {})) and 0)
    report("classify_paths", files, times)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory of this process (ru_maxrss): {peak:.0f} MB")


def command_speed(files: int, runs: int, seed: int) -> None:
    """`pdm-bot classify --json` on `files` real-sized files as a fresh process, cold and warm."""
    rng = random.Random(seed)
    script = str(Path(sys.executable).with_name("pdm-bot"))
    with tempfile.TemporaryDirectory(prefix="pdm-bench-cli-") as tmp:
        folder, cache = Path(tmp) / "migrations", Path(tmp) / "cache"
        folder.mkdir()
        sizes = []
        for i in range(files):
            text = real_sized(rng, i)
            sizes.append(len(text.encode()))
            (folder / f"{20260101000000 + i}_generated_migration_{i}.rb").write_text(text)
        print(
            f"pdm-bot classify --json: {files} files, {statistics.mean(sizes) / 1024:.1f} KB average "
            f"({min(sizes) / 1024:.1f}–{max(sizes) / 1024:.1f} KB); before: {load()}"
        )
        cold = [script, "classify", "--json", str(folder)]
        warm = [*cold[:2], "--cache-dir", str(cache), *cold[2:]]
        times, peak = timed_runs(runs, lambda: run_command(cold))
        report("cold (no cache)", files, times, peak)
        fill_start = time.perf_counter()
        fill_peak = run_command(warm)
        report("cache filled (first run)", files, [time.perf_counter() - fill_start], fill_peak)
        times, peak = timed_runs(runs, lambda: run_command(warm))
        report("warm (unchanged tree, --cache-dir)", files, times, peak)
        sources = [p.read_bytes() for p in sorted(folder.iterdir())]
    print(f"  references, after: {load()}")
    times, _ = timed_runs(max(runs, 5), lambda: run_command([sys.executable, "-c", "pass"]))
    best, median = min(times) * 1000, statistics.median(times) * 1000
    print(f"  python -c pass: best {best:.0f} ms, median {median:.0f} ms")
    import tree_sitter_ruby
    from tree_sitter import Language, Parser

    ruby = Parser(Language(tree_sitter_ruby.language()))
    times, _ = timed_runs(runs, lambda: len([ruby.parse(source) for source in sources]) and 0)
    report("bare tree-sitter parse, one core", files, times)


def main() -> None:
    """Generate, classify, report."""
    parser = argparse.ArgumentParser(description="Benchmark pdm-bot classify")
    parser.add_argument("--files", type=int, default=5_000)
    parser.add_argument("--cli-files", type=int, default=7_700)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.files:
        in_process(args.files, args.runs, args.seed)
    if args.cli_files:
        command_speed(args.cli_files, args.runs, args.seed)


if __name__ == "__main__":
    main()
