"""Classify many migration files for `pdm-bot classify`: walk, read, look up the cache, spread over the cores.

Each file becomes an `Outcome`: its primary nature (for `--fail-on`), its compact JSON object and, for the
table, its row, made where it was classified. Inputs of at least `PARALLEL_MIN_FILES` files to classify are
split in small chunks over a pool of forked processes (one per usable core) when this process runs a single
thread (the CLI); results keep the order of the files. With a cache (`classify_cache.py`) the files are read
and hashed first and only the misses are classified; the Ruby parser is not even loaded when all files hit.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from bot.classify_cache import Cache, classifier_version, context_hash, file_key
from scheduler.classify.result import Result, SizeClass, json_string, result_from_json, result_json
from scheduler.classify.tabledocs import DOCS_DIR, TableDocs, read_table_docs
from scheduler.errors import InputError

if TYPE_CHECKING:
    from hashlib import _Hash as Hash

PARALLEL_MIN_FILES = 1_000
MIN_CHUNK_FILES = 16
READ_SIZE = 64 * 1024

Docs = tuple[dict[str, SizeClass], dict[str, str]]  # sizes (explicit ones win), gitlab_schema per table
# Set before the pool forks (the workers inherit them): the documented sizes and schemas of each checkout,
# and the cache with the hash of each checkout's context, when there is one.
_DOCS: list[Docs] = []
_CACHE: list[tuple[Cache, list[Hash]]] = []
_BY_NAME = attrgetter("name")


class Outcome(NamedTuple):
    """What the CLI prints for one file: its primary nature, its JSON object, its table row (table only)."""

    primary: str
    json: bytes
    row: tuple[str, ...] | None = None


def _rb_files(folder: str) -> Iterator[str]:
    """Every `*.rb` regular file below `folder` in path order: each directory's entries sorted by name, a
    directory's files before the next entry (symbolic links to directories are not followed)."""
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=_BY_NAME)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _rb_files(entry.path)
        elif entry.name.endswith(".rb") and entry.is_file():
            yield entry.path


def migration_files(paths: Iterable[str]) -> Iterator[str]:
    """Each path as given when it is a file; every `*.rb` below it, in path order, when it is a directory."""
    for raw in paths:
        if os.path.isdir(raw):
            yield from _rb_files(raw)
        elif os.path.isfile(raw):
            yield raw
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
        index = index_of[docs_dir]
        files += [(f, index) for f in migration_files([raw])]
    return files, docs


def read_file(path: str) -> bytes:
    """The bytes of `path`: one `read` for a migration-sized file (half the cost of `open().read()`)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, path) from None
    try:
        data = os.read(fd, READ_SIZE)
        if len(data) == READ_SIZE:
            chunks = [data]
            while chunk := os.read(fd, READ_SIZE):
                chunks.append(chunk)
            data = b"".join(chunks)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, path) from None
    finally:
        os.close(fd)
    return data


def _classifier() -> Callable[..., Result]:
    from scheduler.classify.classifier import classify  # loads the Ruby parser: only when a file needs it

    return classify


def classify_file(path: str, docs: Docs) -> Result:
    """Read and classify one file."""
    sizes, schemas = docs
    return _classifier()(read_file(path), path, table_sizes=sizes, table_schemas=schemas)


def classify_paths(paths: Iterable[str], table_sizes: Mapping[str, SizeClass]) -> list[Result]:
    """Classify every migration file under `paths`, in this process.

    Inside a GitLab checkout, `db/docs/*.yml` give each table's size class and gitlab_schema; the sizes in
    `table_sizes` take precedence over the documented ones.
    """
    files, docs = collect(paths, table_sizes)
    return [classify_file(path, docs[index]) for path, index in files]


def table_row(result: Result) -> tuple[str, ...]:
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


def _summary(result: Result) -> str:
    if result.error is not None:
        return f"error: {result.error}"
    weighty = [e for e in result.evidence if e.nature is not None]
    cited = list(dict.fromkeys(f"{e.signal.split('(')[0]}@{e.line}" for e in weighty))
    more = f" +{len(cited) - 3} more" if len(cited) > 3 else ""
    text = ", ".join(cited[:3]) + more
    return text or (result.resolution or "")


class Found(NamedTuple):
    """One file's outcome, its cache key (empty without a cache) and whether it was classified now."""

    outcome: Outcome
    key: bytes = b""
    fresh: bool = True


def _outcomes(task: tuple[list[tuple[str, int]], bool]) -> list[Found]:
    """Read each file; take its outcome from the cache when there is one that knows it, else classify it."""
    files, as_json = task
    cached = _CACHE[0] if _CACHE else None
    classify = None
    found = []
    for path, index in files:
        source = read_file(path)
        key = b""
        if cached is not None:
            store, contexts = cached
            key = file_key(contexts[index], path, source)
            value = store.get(key)
            if value is not None:
                found.append(Found(_from_cache(path, value, as_json), key, fresh=False))
                continue
        if classify is None:
            classify = _classifier()
        sizes, schemas = _DOCS[index]
        result = classify(source, path, table_sizes=sizes, table_schemas=schemas)
        text = result_json(result).encode()
        outcome = Outcome(result.primary_nature.value, text, None if as_json else table_row(result))
        found.append(Found(outcome, key))
    return found


def usable_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _chunks(files: list[tuple[str, int]], cores: int) -> list[list[tuple[str, int]]]:
    """Guided chunks: each a `1 / (4 * cores)` share of the files left (at least `MIN_CHUNK_FILES`), so that
    few go through the pool and the last ones are small enough for the workers to finish together."""
    chunks, start = [], 0
    while start < len(files):
        size = max(MIN_CHUNK_FILES, (len(files) - start) // (4 * cores))
        chunks.append(files[start : start + size])
        start += size
    return chunks


def _process(files: list[tuple[str, int]], as_json: bool, *, preload: bool) -> list[Found]:
    """`_outcomes` of all `files`: in this process, or over the cores for many files."""
    cores = usable_cores()
    if len(files) < PARALLEL_MIN_FILES or cores < 2 or threading.active_count() > 1:
        return _outcomes((files, as_json))  # forking a threaded process may copy a held lock: no pool
    if preload:
        _classifier()  # loaded once, before the fork: the workers inherit the parser and its query
    tasks = [(chunk, as_json) for chunk in _chunks(files, cores)]
    gc.freeze()  # the workers' collections then leave the inherited objects (and their pages) alone
    try:
        with multiprocessing.get_context("fork").Pool(cores) as pool:
            return [found for chunk in pool.imap(_outcomes, tasks) for found in chunk]
    finally:
        gc.unfreeze()


def classify_outcomes(
    paths: Iterable[str],
    table_sizes: Mapping[str, SizeClass],
    *,
    as_json: bool,
    cache: Path | None = None,
    warn: Callable[[str], None] = lambda _: None,
) -> list[Outcome]:
    """Classify every file under `paths`; with a `cache` folder, only the files it does not know.

    A cache that cannot be written is reported through `warn`; the results are the same.
    """
    files, docs = collect(paths, table_sizes)
    _DOCS[:] = docs
    _CACHE.clear()
    if cache is None:
        return [found.outcome for found in _process(files, as_json, preload=True)]
    store = Cache(cache)
    version = classifier_version()
    _CACHE.append((store, [context_hash(version, sizes, schemas) for sizes, schemas in docs]))
    try:
        found = _process(files, as_json, preload=len(store) == 0)
    finally:
        _CACHE.clear()
    new = {f.key: _to_cache(path, f.outcome) for (path, _), f in zip(files, found, strict=True) if f.fresh}
    if new:
        try:
            store.save([f.key for f in found], new)
        except OSError as exc:
            warn(f"classify cache not saved in {cache}: {exc.strerror or exc}")
    return [f.outcome for f in found]


def _path_prefix(path: str) -> bytes:
    """The start of a file's JSON object, up to its path (what the cache leaves out)."""
    return b'{"path":' + json_string(path).encode()


def _to_cache(path: str, outcome: Outcome) -> bytes:
    """The cached value of a fresh outcome: its primary nature, then its JSON object without the path."""
    return outcome.primary.encode() + b"\n" + outcome.json[len(_path_prefix(path)) :]


def _from_cache(path: str, value: bytes, as_json: bool) -> Outcome:
    """A file's outcome from its cached value (its table row from the JSON object, parsed back)."""
    primary, _, rest = value.partition(b"\n")
    text = _path_prefix(path) + rest
    return Outcome(primary.decode(), text, None if as_json else table_row(result_from_json(text)))
