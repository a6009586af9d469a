"""Classify many migration files for `pdm-bot classify`: walk, read, look up the cache, spread over the cores.

Each file gives its primary nature (for `--fail-on`), its compact JSON object and, for the table, its row,
made where it was classified (`Outcomes`). Inputs of at least `PARALLEL_MIN_FILES` files to classify are
split in guided chunks that forked processes (one per core) and this one take in turn, when it runs a single
thread (the CLI); results keep the order of the files. With a cache (`classify_cache.py`) the files are read
and hashed first and only the misses are classified; the Ruby parser is not even loaded when all files hit.
"""

from __future__ import annotations

import gc
import os
import pickle
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bot.classify_cache import Cache, classifier_version, context_hash, docs_digest, file_key
from bot.classify_index import StatIndex, Text
from bot.classify_walk import docs_files, find_migrations, read_file
from scheduler.classify.result import Result, SizeClass, json_string, result_from_json, result_json
from scheduler.classify.tabledocs import TableDocs, read_table_docs

PARALLEL_MIN_FILES = 1_000
MIN_CHUNK_FILES = 16

Docs = tuple[dict[str, SizeClass], dict[str, str]]  # sizes (explicit ones win), gitlab_schema per table
# Set before the pool forks (the workers inherit them): the documented sizes and schemas of each checkout,
# and with a cache, the hash of each checkout's context (the workers key what they classify).
_DOCS: list[Docs] = []
_CACHE: list[list[bytes]] = []


def load_table_docs(docs: Path | None) -> TableDocs:
    """Sizes and schemas documented in `docs/*.yml` (nothing when there is no such directory)."""
    if docs is None:
        return TableDocs()
    return read_table_docs(p.read_text(encoding="utf-8", errors="replace") for p in docs_files(docs))


def collect(
    paths: Iterable[str], table_sizes: Mapping[str, SizeClass]
) -> tuple[list[tuple[str, int]], list[Docs]]:
    """The files to classify, each with the index of its checkout's documented sizes and schemas."""
    files, folders = find_migrations(paths)
    return files, [_docs(load_table_docs(folder), table_sizes) for folder in folders]


def _docs(found: TableDocs, table_sizes: Mapping[str, SizeClass]) -> Docs:
    """The sizes (`table_sizes` over the documented ones) and schemas of a checkout's files."""
    return found.sizes_overridden_by(table_sizes), found.schemas


def _classifier() -> Callable[..., Result]:
    from scheduler.classify.classifier import classify_migration  # loads the Ruby parser: only when needed

    return classify_migration


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


@dataclass
class Outcomes:
    """What the CLI prints for a run of files, in their order: each file's primary nature (for
    `--fail-on`), its JSON object (UTF-8) and its table row (table only). A worker sends one per chunk:
    lists of plain values, cheap to pickle."""

    primaries: list[str] = field(default_factory=list)
    json: list[Text] = field(default_factory=list)
    rows: list[tuple[str, ...]] = field(default_factory=list)
    new: dict[bytes, bytes] = field(default_factory=dict)  # with a cache: the values of the files classified

    def extend(self, other: Outcomes) -> None:
        """Append the outcomes of the files after these."""
        self.primaries += other.primaries
        self.json += other.json
        self.rows += other.rows
        self.new.update(other.new)


def _outcomes(task: tuple[list[tuple[str, int]], bool]) -> Outcomes:
    """Read and classify each file (with a cache, also the value to keep, under the key of what was read)."""
    files, as_json = task
    classify = _classifier()
    done = Outcomes()
    for path, index in files:
        source = read_file(path)
        sizes, schemas = _DOCS[index]
        result = classify(source, path, table_sizes=sizes, table_schemas=schemas)
        text = result_json(result).encode()
        done.primaries.append(result.primary_nature.value)
        done.json.append(text)
        if not as_json:
            done.rows.append(table_row(result))
        if _CACHE:
            key = file_key(_CACHE[0][index], path, source)
            done.new[key] = _to_cache(path, result.primary_nature.value, text)
    return done


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


Done = dict[int, Outcomes | Exception]  # chunk number: its outcomes, or the error that stopped it


def _process(files: list[tuple[str, int]], as_json: bool) -> Outcomes:
    """`_outcomes` of all `files`: in this process, or over the cores for many files."""
    cores = usable_cores()
    if len(files) < PARALLEL_MIN_FILES or cores < 2 or threading.active_count() > 1:
        return _outcomes((files, as_json))  # forking a threaded process may copy a held lock: no pool
    _classifier()  # loaded once, before the fork: the workers inherit the parser and its query
    chunks = _chunks(files, cores + 1)
    workers: list[tuple[int, IO[bytes]]] = []
    gc.freeze()  # the workers' collections then leave the inherited objects (and their pages) alone
    queue = _queue(len(chunks))
    try:
        for _ in range(cores):
            workers.append(_fork_worker(queue, chunks, as_json))
        done = _take(queue, chunks, as_json)  # this process works too: it shares the cores with the workers
    finally:
        os.close(queue)
        gc.unfreeze()
        left = [_worker_result(pid, output) for pid, output in workers]  # each one waited for
    for worker_done in left:
        if worker_done is None:
            raise RuntimeError("a pdm-bot classify worker process failed")
        done.update(worker_done)
    outcomes = Outcomes()
    for n in range(len(chunks)):
        chunk = done[n]
        if isinstance(chunk, Exception):
            raise chunk  # the first failing file's error, as in one process
        outcomes.extend(chunk)
    return outcomes


def _queue(count: int) -> int:
    """A pipe holding the chunk numbers `0…count-1`, to read 4 bytes at a time (such a read is atomic): each
    process takes the next chunk when it is free. Returns the reading end."""
    read, write = os.pipe()
    try:
        os.write(write, b"".join(n.to_bytes(4, "little") for n in range(count)))  # below the pipe's 64 KiB
    finally:
        os.close(write)
    return read


def _take(queue: int, chunks: list[list[tuple[str, int]]], as_json: bool) -> Done:
    """Classify the chunks taken from `queue` until it is empty, or up to one that fails."""
    done: Done = {}
    while number := os.read(queue, 4):
        n = int.from_bytes(number, "little")
        try:
            done[n] = _outcomes((chunks[n], as_json))
        except Exception as exc:  # raised by `_process` in the order of the files
            done[n] = exc
            break
    return done


def _fork_worker(queue: int, chunks: list[list[tuple[str, int]]], as_json: bool) -> tuple[int, IO[bytes]]:
    """A forked process that takes chunks from `queue` and leaves its outcomes (pickled) in a temporary
    file: nothing goes through a pipe that this process would have to drain while it works."""
    output = tempfile.TemporaryFile()  # noqa: SIM115  # closed by `_worker_result`
    pid = os.fork()
    if pid:
        return pid, output
    status = 1
    try:
        pickle.dump(_take(queue, chunks, as_json), output, pickle.HIGHEST_PROTOCOL)
        output.flush()
        status = 0
    finally:
        os._exit(status)  # whatever happened: never back into the parent's code, nor its clean-up


def _worker_result(pid: int, output: IO[bytes]) -> Done | None:
    """What a worker left once it has ended (None when it failed)."""
    with output:
        _, status = os.waitpid(pid, 0)
        if status != 0:
            return None
        output.seek(0)
        done: Done = pickle.load(output)
    return done


def classify_outcomes(
    paths: Iterable[str],
    table_sizes: Mapping[str, SizeClass],
    *,
    as_json: bool,
    cache: Path | None = None,
    warn: Callable[[str], None] = lambda _: None,
) -> Outcomes:
    """Classify every file under `paths`; with a `cache` folder, only the files it does not know.

    With a cache, this process reads and hashes every file and looks it up (a few microseconds a file,
    without loading the parser); only the misses are classified, over the cores when they are many. A
    cache that cannot be written is reported through `warn`; the results are the same.
    """
    _CACHE.clear()
    if cache is None:
        files, _DOCS[:] = collect(paths, table_sizes)
        return _process(files, as_json)
    started_ns = time.time_ns()  # before the first stat: the stat index's racy moment
    gc.disable()  # tens of thousands of small tuples, no cycles: collections would only walk them
    try:
        return _cached_outcomes(paths, table_sizes, as_json, cache, started_ns, warn)
    finally:
        gc.enable()


def _cached_outcomes(
    paths: Iterable[str],
    table_sizes: Mapping[str, SizeClass],
    as_json: bool,
    cache: Path,
    started_ns: int,
    warn: Callable[[str], None],
) -> Outcomes:
    """`classify_outcomes` with a cache."""
    files, folders = find_migrations(paths)
    index = StatIndex(cache, started_ns=started_ns)
    version = classifier_version()
    parsed: dict[int, TableDocs] = {}
    contexts = []
    for n, folder in enumerate(folders):  # db/docs by stat too: read only when they changed
        digest = index.documented(folder)
        if digest is None:
            parsed[n] = load_table_docs(folder)
            digest = docs_digest(parsed[n].sizes, parsed[n].schemas)
            index.record_docs(folder, digest)
        contexts.append(context_hash(version, digest, table_sizes))
    found = index.find(files, contexts)  # an unchanged file: a stat, no read
    done = Outcomes(found.primaries, found.json)
    store = Cache(cache)
    misses: list[int] = []
    for n, _ in found.unknown:  # read, hash and look up in the store
        path, context = files[n]
        found.keys[n] = file_key(contexts[context], path, read_file(path))
        value = store.get(found.keys[n])
        if value is None:
            misses.append(n)
            continue
        primary, _, rest = value.partition(b"\n")
        done.primaries[n], done.json[n] = primary.decode(), _path_prefix(path) + rest
    if misses:
        found_docs = (parsed.get(n) or load_table_docs(folder) for n, folder in enumerate(folders))
        _DOCS[:] = [_docs(docs, table_sizes) for docs in found_docs]
        _CACHE.append(contexts)
        try:
            fresh = _process([files[n] for n in misses], as_json)
        finally:
            _CACHE.clear()
        for m, n in enumerate(misses):
            done.primaries[n], done.json[n] = fresh.primaries[m], fresh.json[m]
        done.new = fresh.new
    for n, stat in found.unknown:
        path, context = files[n]
        index.record(path, stat, contexts[context], (found.keys[n], done.primaries[n], done.json[n]))
    try:
        if done.new:
            store.save(found.keys, done.new)
        index.save()
    except OSError as exc:
        warn(f"classify cache not saved in {cache}: {exc.strerror or exc}")
    if not as_json:
        done.rows = [table_row(result_from_json(bytes(text))) for text in done.json]
    return done


def _path_prefix(path: str) -> bytes:
    """The start of a file's JSON object, up to its path (what the cache leaves out)."""
    return b'{"path":' + json_string(path).encode()


def _to_cache(path: str, primary: str, text: bytes) -> bytes:
    """The cached value of a file: its primary nature, then its JSON object without the path."""
    return primary.encode() + b"\n" + text[len(_path_prefix(path)) :]
