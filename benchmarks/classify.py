"""Benchmark `pdm-bot classify`: generate migration files, classify them, report speed and memory.

Usage: .venv/bin/python benchmarks/classify.py [--files 10000] [--cli-files 7700] [--seed 7]

1. In process: `--files` small generated files (1–4 catalog helpers each, on random tables, some in heredoc
   SQL, some conditional) through `classify_paths` (reading included), one process.
2. The command: `pdm-bot classify --json DIR` as a fresh process on `--cli-files` real-sized files (1–6 KB:
   a comment header, 2–8 helpers, a nested model class, SQL heredocs, a `down`), output discarded, process
   start included; with the same-run reference `python -c pass`. Prints files per second and the largest
   resident memory of one process (the command or one of its workers).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
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


def command_speed(files: int, seed: int) -> None:
    """Run `pdm-bot classify --json` on `files` real-sized files as a fresh process; print the figures."""
    rng = random.Random(seed)
    script = Path(sys.executable).with_name("pdm-bot")
    with tempfile.TemporaryDirectory(prefix="pdm-bench-cli-") as tmp:
        sizes = []
        for i in range(files):
            text = real_sized(rng, i)
            sizes.append(len(text))
            (Path(tmp) / f"{20260101000000 + i}_generated_migration_{i}.rb").write_text(text)
        reference = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            reference.append(time.perf_counter() - start)
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([str(script), "classify", "--json", tmp], check=True, stdout=subprocess.DEVNULL)
            runs.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    best, median = min(runs), statistics.median(runs)
    print(
        f"pdm-bot classify --json: {files} files, {statistics.mean(sizes) / 1024:.1f} KB average "
        f"({min(sizes) / 1024:.1f}–{max(sizes) / 1024:.1f} KB)"
    )
    print(
        f"  median {median:.2f} s = {files / median:,.0f} files/s; "
        f"best {best:.2f} s = {files / best:,.0f} files/s"
    )
    print(f"  reference python -c pass: {statistics.median(reference) * 1000:.0f} ms")
    print(f"  largest process (ru_maxrss of children): {peak_mb:.0f} MB")


def main() -> None:
    """Generate, classify, report."""
    parser = argparse.ArgumentParser(description="Benchmark pdm-bot classify")
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--cli-files", type=int, default=7_700)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="pdm-bench-") as tmp:
        root = Path(tmp)
        for i in range(args.files):
            (root / f"{20260101000000 + i}_generated_migration_{i}.rb").write_text(migration(rng, i))
        start = time.perf_counter()
        results = classify_paths([tmp], {})
        elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    natures: dict[str, int] = {}
    for result in results:
        natures[result.primary_nature.value] = natures.get(result.primary_nature.value, 0) + 1
    print(f"files: {len(results)}  seconds: {elapsed:.2f}  files/s: {len(results) / elapsed:,.0f}")
    print(f"peak memory (ru_maxrss): {peak_mb:.0f} MB")
    print("primary natures: " + ", ".join(f"{k}={v}" for k, v in sorted(natures.items())))
    if args.cli_files:
        command_speed(args.cli_files, args.seed)


if __name__ == "__main__":
    main()
