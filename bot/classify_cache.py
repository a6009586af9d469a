"""The `pdm-bot classify --cache` store: each file's result, found again by a hash of its content.

Key: 16 bytes of sha256 over what the result depends on — the classifier (its source files and the installed
tree-sitter grammar), the table sizes and schemas in force (documented and `--table-sizes`), the file name
(version and name come from it) and the file's bytes. Value: the primary nature and the file's JSON object
without its `path`, which is put back when printed, so the same file in another checkout hits too.

One file per cache directory, `classify-v1.bin`:

    header  MAGIC, entry count (u32)
    index   count x (key 16 bytes, offset u64, length u32, crc32 u32); offsets count from the file start
    values  `primary\\n{json without path}` in UTF-8

It is memory-mapped: only the values looked up are read. A run that classified something writes a new file
(this run's entries first, then older ones while the file stays under `MAX_CACHE_BYTES`) under a temporary
name and renames it over the old one, so a concurrent run sees the old or the new file, never a partial
one (the last rename wins). An entry whose CRC does not match or whose offset is outside the file is a miss
and is rewritten; a file with another header is ignored and replaced.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import itertools
import mmap
import os
import struct
import time
import zlib
from collections.abc import Iterable, Mapping
from operator import itemgetter
from pathlib import Path

FILE_NAME = "classify-v1.bin"
MAGIC = b"PDMCLS1\n"
MAX_CACHE_BYTES = 32 * 1024 * 1024  # about 18,000 results of GitLab-sized migrations
KEY_BYTES = 16
_HEADER = struct.Struct("<8sI")
_ENTRY = struct.Struct(f"<{KEY_BYTES}sQII")
# The code a result depends on: hashed by content, so any change of a rule or of the catalog misses.
_CLASSIFIER_MODULES = ("scheduler.classify", "scheduler.natures")
_GRAMMAR_PACKAGES = ("tree_sitter", "tree_sitter_ruby")
_STALE_TEMP_SECONDS = 3600


def default_folder() -> Path:
    """`$XDG_CACHE_HOME/pdm-bot`, or `~/.cache/pdm-bot`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pdm-bot"


def classifier_version() -> bytes:
    """A digest of the classifier's source files and of the installed grammar's files (name, size, time)."""
    digest = hashlib.sha256(MAGIC)
    for module in _CLASSIFIER_MODULES:
        for path in _module_files(module):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for package in _GRAMMAR_PACKAGES:
        for path in _module_files(package):
            stat = path.stat()
            digest.update(f"{package}/{path.name}:{stat.st_size}:{stat.st_mtime_ns}\0".encode())
    return digest.digest()


def _module_files(name: str) -> list[Path]:
    """The files of a module, or of a package's own directory (not its subpackages), by name."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"cannot find the module {name}")
    if spec.submodule_search_locations:
        folder = Path(spec.origin).parent
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith(".pyc"))
    return [Path(spec.origin)]


def docs_digest(sizes: Mapping[str, str], schemas: Mapping[str, str]) -> bytes:
    """A digest of the table sizes and schemas a checkout's `db/docs` give."""
    digest = hashlib.sha256()
    for mapping in (sizes, schemas):
        digest.update(b"\1".join(f"{k}\0{v}".encode() for k, v in sorted(mapping.items())) + b"\2")
    return digest.digest()[:KEY_BYTES]


def context_hash(version: bytes, docs: bytes, table_sizes: Mapping[str, str]) -> bytes:
    """A digest of what, besides a file, its result depends on: the classifier, the documented table sizes
    and schemas (`docs_digest`) and the sizes given, which take precedence."""
    return hashlib.sha256(version + docs + docs_digest(table_sizes, {})).digest()[:KEY_BYTES]


def file_key(context: bytes, path: str, source: bytes) -> bytes:
    """The cache key of one file: its context, its name and its bytes."""
    name = os.path.basename(path).encode("utf-8", "surrogateescape")
    digest = hashlib.sha256(context + len(name).to_bytes(4, "little") + name)
    digest.update(source)
    return digest.digest()[:KEY_BYTES]


class Cache:
    """The entries of one cache directory, read-only once loaded; `save` writes a new file."""

    def __init__(self, folder: Path, *, max_bytes: int = MAX_CACHE_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.path = folder / FILE_NAME
        self._map: mmap.mmap | bytes = b""

    @functools.cached_property
    def _index(self) -> dict[bytes, tuple[bytes, int, int, int]]:
        """The entries, read on first use (a run the stat index answers does not open the store)."""
        try:
            with open(self.path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size >= _HEADER.size:
                    self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError:
            return {}  # no cache yet, or unreadable: every file is a miss
        return _read_index(self._map)

    def __len__(self) -> int:
        return len(self._index)

    def get(self, key: bytes) -> bytes | None:
        """The value stored under `key`, or None: absent, or damaged (a miss, rewritten by the next save)."""
        entry = self._index.get(key)
        if entry is None:
            return None
        _, offset, length, crc = entry
        value = self._map[offset : offset + length]
        return value if len(value) == length and zlib.crc32(value) == crc else None

    def save(self, keys: Iterable[bytes], new: Mapping[bytes, bytes]) -> None:
        """Write this run's entries (`keys` in order, values from `new` or the old file), then the other old
        ones, while the file stays under `max_bytes` (the first entry that does not fit ends the file)."""
        entries: dict[bytes, bytes] = {}
        total = _HEADER.size
        for key in itertools.chain(keys, self._index):
            if key in entries:
                continue
            value = new.get(key) or self.get(key)
            if value is None:
                continue
            total += _ENTRY.size + len(value)
            if total > self.max_bytes:
                break
            entries[key] = value
        header = _HEADER.pack(MAGIC, len(entries))
        offset = _HEADER.size + _ENTRY.size * len(entries)
        index = []
        for key, value in entries.items():
            index.append(_ENTRY.pack(key, offset, len(value), zlib.crc32(value)))
            offset += len(value)
        write_atomically(self.path, [header, *index, *entries.values()])


def write_atomically(path: Path, chunks: Iterable[bytes | memoryview]) -> None:
    """Write `chunks` to a temporary file beside `path` and rename it over `path`: a reader sees the old
    file or the new one, never a partial one (of two concurrent writers, the last rename wins)."""
    import tempfile  # only a run that recorded something writes

    path.parent.mkdir(parents=True, exist_ok=True)
    _clear_stale_temps(path)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.writelines(chunks)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _read_index(data: mmap.mmap | bytes) -> dict[bytes, tuple[bytes, int, int, int]]:
    """key → (key, offset, length, crc) of every entry; nothing when the header or the index is not ours."""
    try:
        magic, count = _HEADER.unpack_from(data)
    except struct.error:
        return {}
    end = _HEADER.size + _ENTRY.size * count
    if magic != MAGIC or end > len(data):
        return {}
    rows = list(_ENTRY.iter_unpack(data[_HEADER.size : end]))
    return dict(zip(map(itemgetter(0), rows), rows, strict=True))  # built in C: tens of thousands of rows


def _clear_stale_temps(path: Path) -> None:
    """Remove the temporary files of `path` a killed run left behind (a running one renames its file within
    seconds)."""
    limit = time.time() - _STALE_TEMP_SECONDS
    for temp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if temp.stat().st_mtime < limit:
                temp.unlink()
        except OSError:
            continue
