"""Benchmark `pdm-bot classify`: generate N migration files, classify them in one process, report speed.

Usage: .venv/bin/python benchmarks/classify.py [--files 10000] [--seed 7]

Files are generated from the helper catalog (1–4 helpers each, on random tables, some in heredoc SQL,
some conditional); they go through the same code path as the CLI (`classify_paths`). Prints files per
second and the process's peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from pathlib import Path

from bot.cli_classify import classify_paths
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


def main() -> None:
    """Generate, classify, report."""
    parser = argparse.ArgumentParser(description="Benchmark pdm-bot classify")
    parser.add_argument("--files", type=int, default=10_000)
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


if __name__ == "__main__":
    main()
