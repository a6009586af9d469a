"""Score the classifier on real GitLab post-deploy migrations labelled by hand.

Usage: .venv/bin/python benchmarks/classify_real.py [--cache DIR] [--manifests DIR] [--heldout FILE]

The manifests `benchmarks/real_migrations/*.tsv` (columns: id, repo, path, commit, sha256, nature, database,
reason) name each file by the sha256 of its text. The files themselves stay out of the repository, in a local
cache as `<sha256>.rb`: `--cache`, else `$PDM_REAL_MIGRATIONS_CACHE`, else `~/.cache/pdm-bot/real-migrations`.
Nothing is downloaded: without a cache the script says so and exits 0. A row whose search-index id or class
name is held out for outside measurement (`<repo>/../shared/heldout-exclude.txt`) is refused, unread. A
database of `-` states none: such a row counts for the nature only.

Each cached file goes through `classify_source`, the classifier `pdm-bot classify` runs, under its manifest
path. Printed: files found and missing, primary-nature accuracy, the confusion table, every heavy→light miss,
the database accuracy on files declaring `restrict_gitlab_migration`, and every miss with its evidence.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scheduler.classify import classify_source
from scheduler.classify.model import Classification, Database
from scheduler.natures import ALL_NATURES, Nature

REPO = Path(__file__).resolve().parents[1]
MANIFESTS = REPO / "benchmarks" / "real_migrations"
HELDOUT = REPO.parent / "shared" / "heldout-exclude.txt"
DEFAULT_CACHE = Path("~/.cache/pdm-bot/real-migrations")
COLUMNS = ("id", "repo", "path", "commit", "sha256", "nature", "database", "reason")
_DECLARES_SCHEMA = re.compile(r"^\s*restrict_gitlab_migration\s+gitlab_schema:", re.M)
_SHORT = {
    Nature.NO_OP: "no_op",
    Nature.BACKGROUND_SCHEDULING: "bg",
    Nature.INDEX_AND_CONSTRAINT: "index",
    Nature.DATA_MIGRATION: "data",
    Nature.DDL_CLEANUP: "ddl",
    Nature.UNKNOWN: "unknown",
}


@dataclass(frozen=True)
class Row:
    """One hand-labelled migration of a manifest."""

    id: str
    repo: str
    path: str
    commit: str
    sha256: str
    nature: Nature
    database: Database | None  # None: `-` in the manifest, no database stated
    reason: str


@dataclass(frozen=True)
class Scored:
    """A cached file, its label and what the classifier said."""

    row: Row
    result: Classification
    declares_schema: bool

    @property
    def correct(self) -> bool:
        """The primary nature is the labelled one."""
        return self.result.primary_nature is self.row.nature

    @property
    def heavy_to_light(self) -> bool:
        """A heavy migration called light: the miss that must never happen."""
        return self.row.nature.is_heavy and not self.result.primary_nature.is_heavy


@dataclass
class Report:
    """The outcome of one scoring run."""

    rows: int = 0
    scored: list[Scored] = field(default_factory=list)
    missing: list[Row] = field(default_factory=list)
    changed: list[Row] = field(default_factory=list)
    refused: list[tuple[Row, str]] = field(default_factory=list)


def class_name(path: str) -> str:
    """The class a migration file declares by convention: CamelCase of its name without the version."""
    base = re.sub(r"^\d+_", "", path.rsplit("/", 1)[-1].removesuffix(".rb"))
    return "".join(part[:1].upper() + part[1:] for part in base.split("_"))


def read_manifests(folder: Path) -> list[Row]:
    """Every row of every `*.tsv` manifest in `folder`, in file and line order."""
    rows: list[Row] = []
    for manifest in sorted(folder.glob("*.tsv")):
        lines = manifest.read_text(encoding="utf-8").splitlines()
        if not lines or tuple(lines[0].split("\t")) != COLUMNS:
            raise ValueError(f"{manifest}: header must be {' '.join(COLUMNS)} (tab separated)")
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            cells = line.split("\t")
            if len(cells) != len(COLUMNS):
                raise ValueError(f"{manifest}:{number}: {len(cells)} cells, expected {len(COLUMNS)}")
            values = dict(zip(COLUMNS, cells, strict=True))
            try:
                nature = Nature(values["nature"])
                database = None if values["database"] == "-" else Database(values["database"])
            except ValueError as exc:
                raise ValueError(f"{manifest}:{number}: {exc}") from exc
            rows.append(
                Row(
                    values["id"],
                    values["repo"],
                    values["path"],
                    values["commit"],
                    values["sha256"],
                    nature,
                    database,
                    values["reason"],
                )
            )
    return rows


def read_heldout(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    """Held-out search-index ids and class names (`id<TAB>class_name` lines; `#` comments)."""
    ids: set[str] = set()
    names: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        ids.add(cells[0])
        if len(cells) > 1:
            names.add(cells[1])
    return frozenset(ids), frozenset(names)


def score(rows: Iterable[Row], cache: Path, heldout: tuple[frozenset[str], frozenset[str]]) -> Report:
    """Classify every cached, unchanged, not held-out file of `rows` and compare with its label."""
    held_ids, held_names = heldout
    report = Report()
    for row in rows:
        report.rows += 1
        if row.id in held_ids or class_name(row.path) in held_names:
            report.refused.append((row, "held out for outside measurement"))
            continue
        cached = cache / f"{row.sha256}.rb"
        if not cached.is_file():
            report.missing.append(row)
            continue
        source = cached.read_bytes()
        if hashlib.sha256(source).hexdigest() != row.sha256:
            report.changed.append(row)
            continue
        declared = set(re.findall(rb"^\s*class\s+(\w+)\s*<", source, re.M))
        if {n.decode() for n in declared} & held_names:
            report.refused.append((row, "declares a held-out class"))
            continue
        text = source.decode("utf-8", "replace")
        result = classify_source(source, row.path)
        report.scored.append(Scored(row, result, bool(_DECLARES_SCHEMA.search(text))))
    return report


def confusion(scored: Sequence[Scored]) -> str:
    """Labelled natures down, predicted across; only natures that occur."""
    counts = Counter((s.row.nature, s.result.primary_nature) for s in scored)
    natures = [n for n in ALL_NATURES if any(n in pair for pair in counts)]
    width = max(len("label \\ predicted"), *(len(_SHORT[n]) for n in natures))
    head = "label \\ predicted".ljust(width) + "".join(f"{_SHORT[n]:>9}" for n in natures) + f"{'total':>8}"
    lines = [head]
    for label in natures:
        cells = [counts[(label, predicted)] for predicted in natures]
        lines.append(
            _SHORT[label].ljust(width) + "".join(f"{c or '.':>9}" for c in cells) + f"{sum(cells):>8}"
        )
    return "\n".join(lines)


def _evidence(result: Classification) -> str:
    weighty = [e for e in result.evidence if e.nature is not None]
    weighty.sort(key=lambda e: e.nature is not result.primary_nature)  # the deciding signals first
    cited = [f"{e.signal}@{e.line}={e.nature}" for e in weighty[:4]]
    more = f" +{len(weighty) - 4}" if len(weighty) > 4 else ""
    return (", ".join(cited) + more) or (result.resolution or "-")


def _percent(part: int, whole: int) -> str:
    return f"{part}/{whole} = {part / whole:.1%}" if whole else "0/0"


def render(report: Report, cache: Path) -> str:
    """The human-readable report."""
    scored = report.scored
    lines = [
        f"manifest rows: {report.rows}; cache: {cache}",
        f"files found: {len(scored)}; missing from the cache: {len(report.missing)}; "
        f"text changed (sha256 differs): {len(report.changed)}; refused (held out): {len(report.refused)}",
    ]
    lines += [f"  refused {row.path}: {why}" for row, why in report.refused]
    lines += [f"  changed {row.path} (sha256 {row.sha256[:12]}…)" for row in report.changed]
    if not scored:
        return "\n".join(lines)
    correct = sum(s.correct for s in scored)
    lines += ["", f"primary-nature accuracy: {_percent(correct, len(scored))}", "", confusion(scored)]
    heavy_light = [s for s in scored if s.heavy_to_light]
    lines += ["", f"heavy->light misses: {len(heavy_light)}"]
    lines += [f"  {s.row.path}: {s.row.nature} -> {s.result.primary_nature}" for s in heavy_light]
    declaring = [s for s in scored if s.declares_schema and s.row.database is not None]
    right = [s for s in declaring if s.result.database is s.row.database]
    share = _percent(len(right), len(declaring))
    lines += ["", f"database accuracy on files declaring restrict_gitlab_migration: {share}"]
    lines += [
        f"  {s.row.path}: labelled {s.row.database}, classified {s.result.database}"
        for s in declaring
        if s.result.database is not s.row.database
    ]
    misses = [s for s in scored if not s.correct]
    lines += ["", f"misses: {len(misses)}"]
    for s in misses:
        lines.append(f"  {s.row.path}: label {s.row.nature}, predicted {s.result.primary_nature}")
        lines.append(f"      evidence: {_evidence(s.result)}")
        lines.append(f"      label reason: {s.row.reason}")
    return "\n".join(lines)


def cache_dir(option: str | None) -> Path:
    """`--cache`, else `$PDM_REAL_MIGRATIONS_CACHE`, else the default under `~/.cache`."""
    chosen = option or os.environ.get("PDM_REAL_MIGRATIONS_CACHE") or str(DEFAULT_CACHE)
    return Path(chosen).expanduser()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, score, print; always 0 (a report, not a gate)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cache", help="directory of <sha256>.rb files")
    parser.add_argument("--manifests", type=Path, default=MANIFESTS, help="directory of *.tsv manifests")
    parser.add_argument("--heldout", type=Path, default=HELDOUT, help="held-out id/class list")
    args = parser.parse_args(argv)
    cache = cache_dir(args.cache)
    if not cache.is_dir():
        print(f"no cache of real migrations at {cache}: nothing to score (this script downloads nothing)")
        return 0
    if args.heldout.is_file():
        heldout = read_heldout(args.heldout)
    else:
        print(f"note: no held-out list at {args.heldout}; no row is refused")
        heldout = (frozenset(), frozenset())
    print(render(score(read_manifests(args.manifests), cache, heldout), cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
