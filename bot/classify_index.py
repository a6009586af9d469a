"""The stat index in front of the `classify --cache` store: an unchanged file costs a `stat`, not a read.

As git's index does, each entry records a path with its device, inode, size, mtime and ctime (nanoseconds);
with them the context the file was classified in (`classify_cache.context_hash`: the classifier, the table
sizes and schemas), the cache key of the bytes read, and the file's ready output: its primary nature and
its JSON object, path included. A later run that finds the same path with the same stat and context prints
that output without reading the file; any other file is read and hashed and looked up in the store.

Racy files: a file changed again within the same clock tick (or the same second, on a file system that keeps
seconds) can keep its size and mtime. So an entry is only recorded for a file whose mtime and ctime are
more than `RACY_NS` older than the moment the run started, before its first `stat`; a file changed since
then gets a ctime (which nothing can set back) inside that window, so its stat differs from the recorded
one. A file too recent to be recorded is read and hashed until a later run records it. This assumes the
file system's clock agrees with this machine's within `RACY_NS`, as git's racy check does.

One file per cache directory, `classify-index-v1.bin`, memory-mapped:

    header  MAGIC, entry count (u32), length of the names (u32), CRC-32 of all that follows (u32)
    entries count x (dev u64, inode u64, size u64, mtime_ns i64, ctime_ns i64, context 16 bytes, key 16,
            offset u64, length u32 of the value)
    names   the entries' paths in UTF-8 (surrogateescape), each followed by a NUL byte
    values  `primary\\n{json}` in UTF-8

A run that recorded something new writes a new file (this run's entries first, then older ones for other
paths while the file stays under `MAX_INDEX_BYTES`) and renames it over the old one. A file that is not
ours, or does not match its CRC (checked once, when loaded: one call is cheaper than one per file), is
ignored and replaced.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from pathlib import Path

from bot.classify_cache import write_atomically

FILE_NAME = "classify-index-v1.bin"
MAGIC = b"PDMIDX1\n"
MAX_INDEX_BYTES = 32 * 1024 * 1024  # about 18,000 GitLab-sized migrations, as the store
RACY_NS = 3_000_000_000  # the coarsest common timestamp granularity (2 s, FAT) and a clock tick, with room
_HEADER = struct.Struct("<8sIII")
_ENTRY = struct.Struct("<QQQqq16s16sQI")
_ENCODING = ("utf-8", "surrogateescape")

Stat = tuple[int, int, int, int, int, bytes]  # dev, inode, size, mtime_ns, ctime_ns, context
# dev, inode, size, mtime_ns, ctime_ns, context, key, offset, length (as in the file)
Row = tuple[int, int, int, int, int, bytes, bytes, int, int]


def signature(stat: os.stat_result, context: bytes) -> Stat:
    """What must not have changed for a file's entry to hold: its stat and the context."""
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, context)


class StatIndex:
    """The entries of one cache directory, read-only once loaded; `save` writes the new ones, if any."""

    def __init__(self, folder: Path, *, started_ns: int, max_bytes: int = MAX_INDEX_BYTES) -> None:
        self.path = folder / FILE_NAME
        self.max_bytes = max_bytes
        self._recent_ns = started_ns - RACY_NS  # files changed from this moment on are not recorded
        self._map: mmap.mmap | bytes = b""
        self._rows: dict[str, Row] = {}
        self._seen: dict[str, bytes] = {}  # this run's paths found unchanged, in order: their values
        self._new: dict[str, tuple[Stat, bytes, bytes]] = {}  # recorded by this run: signature, key, value
        self._stale: set[str] = set()  # old entries found changed and not recorded again
        try:
            with open(self.path, "rb") as handle:
                if os.fstat(handle.fileno()).st_size >= _HEADER.size:
                    self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError:
            return  # no index yet, or unreadable: every file is read
        self._rows = _read_rows(self._map)

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, path: str, stat: os.stat_result, context: bytes) -> tuple[bytes, bytes] | None:
        """The key and value recorded for `path` if its stat and context are the recorded ones, else None."""
        row = self._rows.get(path)
        if row is None or row[:6] != signature(stat, context):
            return None
        value = self._map[row[7] : row[7] + row[8]]
        self._seen[path] = value
        return row[6], value

    def record(self, path: str, stat: os.stat_result, context: bytes, key: bytes, value: bytes) -> None:
        """Remember a file read after `stat` (its key and value), unless it changed too recently to trust."""
        if max(stat.st_mtime_ns, stat.st_ctime_ns) < self._recent_ns:
            self._new[path] = (signature(stat, context), key, value)
        elif path in self._rows:
            self._stale.add(path)

    def save(self) -> None:
        """Write the index if this run recorded a file or found an entry stale."""
        if not self._new and not self._stale:
            return
        rows: list[Row] = []
        names: list[bytes] = []
        values: list[bytes] = []
        size = _HEADER.size
        for path, (stat, key, value) in self._entries():
            name = path.encode(*_ENCODING) + b"\0"
            size += _ENTRY.size + len(name) + len(value)
            if size > self.max_bytes:
                break
            rows.append((*stat, key, 0, len(value)))
            names.append(name)
            values.append(value)
        names_length = sum(map(len, names))
        offset = _HEADER.size + _ENTRY.size * len(rows) + names_length
        packed = []
        for row in rows:
            packed.append(_ENTRY.pack(*row[:7], offset, row[8]))
            offset += row[8]
        crc = zlib.crc32(b"".join(values), zlib.crc32(b"".join([*packed, *names])))
        header = _HEADER.pack(MAGIC, len(rows), names_length, crc)
        write_atomically(self.path, [header, *packed, *names, *values])

    def _entries(self) -> list[tuple[str, tuple[Stat, bytes, bytes]]]:
        """This run's files (found or recorded), then the old entries of other paths."""
        entries = dict(self._new)
        for path, value in self._seen.items():
            entries.setdefault(path, (*_split(self._rows[path]), value))
        for path, row in self._rows.items():
            if path not in entries and path not in self._stale:
                entries[path] = (*_split(row), self._map[row[7] : row[7] + row[8]])
        return list(entries.items())


def _split(row: Row) -> tuple[Stat, bytes]:
    """The signature and the key of an entry."""
    dev, inode, size, mtime_ns, ctime_ns, context, key, *_ = row
    return (dev, inode, size, mtime_ns, ctime_ns, context), key


def _read_rows(data: mmap.mmap | bytes) -> dict[str, Row]:
    """path → row of every entry; nothing when the file is not ours or is damaged."""
    try:
        magic, count, names_length, crc = _HEADER.unpack_from(data)
    except struct.error:
        return {}
    end = _HEADER.size + _ENTRY.size * count
    if magic != MAGIC or end + names_length > len(data):
        return {}
    if zlib.crc32(memoryview(data)[_HEADER.size :]) != crc:
        return {}
    names = data[end : end + names_length].decode(*_ENCODING).split("\0")
    if len(names) != count + 1:
        return {}
    return dict(zip(names, _ENTRY.iter_unpack(data[_HEADER.size : end]), strict=False))
