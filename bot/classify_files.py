"""Classify many migration files for `pdm-bot classify`: walk, read, spread over the cores, render.

Each file becomes a `FileOutcome`: its primary nature (for `--fail-on`) and either its compact JSON object or
its table row, made where it was classified. Inputs of at least `PARALLEL_MIN_FILES` files are split in chunks
over a pool of forked processes (one per usable core) when this process runs a single thread (the CLI);
results keep the order of the files.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from scheduler.classify import classify_source
from scheduler.classify.model import Classification, SizeClass
from scheduler.classify.tabledocs import DOCS_DIR, TableDocs, read_table_docs
from scheduler.errors import InputError
from scheduler.natures import Nature

PARALLEL_MIN_FILES = 1_000
CHUNK_FILES = 250

Docs = tuple[dict[str, SizeClass], dict[str, str]]  # sizes (explicit ones win), gitlab_schema per table
# The documented sizes and schemas of each checkout, set before the pool forks (the workers inherit it).
_DOCS: list[Docs] = []


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What the CLI prints for one file: its primary nature and its JSON object or table row."""

    primary: Nature
    json: str | None = None
    row: tuple[str, ...] | None = None


def _rb_files(folder: str) -> Iterator[str]:
    """Every `*.rb` regular file below `folder` (symbolic links to directories are not followed)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _rb_files(entry.path)
            elif entry.name.endswith(".rb") and entry.is_file():
                yield entry.path


def migration_files(paths: Iterable[str]) -> Iterator[Path]:
    """Each path as given when it is a file; every `*.rb` below it, in path order, when it is a directory."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from (Path(p) for p in sorted(_rb_files(raw), key=lambda p: p.split(os.sep)))
        elif path.is_file():
            yield path
        else:
            raise InputError(f"{raw}: no such file or directory")


def checkout_docs(path: Path) -> Path | None:
    """The `db/docs` directory of the checkout holding `path`: the nearest ancestor that has one."""
    start = path.resolve()
    for folder in (start, *start.parents) if start.is_dir() else start.parents:
        docs = folder / DOCS_DIR
        if docs.is_dir():
            return docs
    return None


def load_table_docs(docs: Path | None) -> TableDocs:
    """Sizes and schemas documented in `docs/*.yml` (nothing when there is no such directory)."""
    if docs is None:
        return TableDocs()
    files = sorted(docs.glob("*.yml"))
    return read_table_docs(p.read_text(encoding="utf-8", errors="replace") for p in files)


def collect(
    paths: Iterable[str], table_sizes: Mapping[str, SizeClass]
) -> tuple[list[tuple[str, int]], list[Docs]]:
    """The files to classify, each with the index of its checkout's documented sizes and schemas."""
    files: list[tuple[str, int]] = []
    docs: list[Docs] = []
    index_of: dict[Path | None, int] = {}
    for raw in paths:
        docs_dir = checkout_docs(Path(raw))
        if docs_dir not in index_of:
            found = load_table_docs(docs_dir)
            index_of[docs_dir] = len(docs)
            docs.append((found.sizes_overridden_by(table_sizes), found.schemas))
        files += [(str(f), index_of[docs_dir]) for f in migration_files([raw])]
    return files, docs


def classify_file(path: str, docs: Docs) -> Classification:
    """Read and classify one file."""
    sizes, schemas = docs
    with open(path, "rb") as handle:
        source = handle.read()
    return classify_source(source, path, table_sizes=sizes, table_schemas=schemas)


def classify_paths(paths: Iterable[str], table_sizes: Mapping[str, SizeClass]) -> list[Classification]:
    """Classify every migration file under `paths`, in this process.

    Inside a GitLab checkout, `db/docs/*.yml` give each table's size class and gitlab_schema; the sizes in
    `table_sizes` take precedence over the documented ones.
    """
    files, docs = collect(paths, table_sizes)
    return [classify_file(path, docs[index]) for path, index in files]


def table_row(result: Classification) -> tuple[str, ...]:
    """The table columns of one result (see `COLUMNS`)."""
    tables = ", ".join(
        f"{t}({result.table_sizes[t]})" if t in result.table_sizes else t for t in result.tables
    )
    database = f"{result.database}{' (assumed)' if result.database_assumed else ''}"
    return (
        result.version or "-",
        result.name or "-",
        result.primary_nature.value,
        database,
        tables or "-",
        "yes" if result.declared else "no",
        result.confidence.value,
        _summary(result),
    )


def _summary(result: Classification) -> str:
    if result.error is not None:
        return f"error: {result.error}"
    weighty = [e for e in result.evidence if e.nature is not None]
    cited = list(dict.fromkeys(f"{e.signal.split('(')[0]}@{e.line}" for e in weighty))
    more = f" +{len(cited) - 3} more" if len(cited) > 3 else ""
    text = ", ".join(cited[:3]) + more
    return text or (result.resolution or "")


def _outcomes(task: tuple[list[tuple[str, int]], bool]) -> list[FileOutcome]:
    files, as_json = task
    found = []
    for path, index in files:
        result = classify_file(path, _DOCS[index])
        if as_json:
            found.append(FileOutcome(result.primary_nature, json=result.model_dump_json()))
        else:
            found.append(FileOutcome(result.primary_nature, row=table_row(result)))
    return found


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def classify_outcomes(
    paths: Iterable[str], table_sizes: Mapping[str, SizeClass], *, as_json: bool
) -> list[FileOutcome]:
    """Classify every file under `paths`: in this process, or over the cores for large inputs."""
    files, docs = collect(paths, table_sizes)
    _DOCS[:] = docs
    cores = usable_cores()
    if len(files) < PARALLEL_MIN_FILES or cores < 2 or threading.active_count() > 1:
        return _outcomes((files, as_json))  # forking a threaded process may copy a held lock: no pool
    size = max(1, min(CHUNK_FILES, len(files) // (cores * 4)))
    tasks = [(files[i : i + size], as_json) for i in range(0, len(files), size)]
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        return [outcome for chunk in pool.imap(_outcomes, tasks) for outcome in chunk]
