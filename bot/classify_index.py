"""The stat index in front of the `classify --cache` store: an unchanged file costs a `stat`, not a read.

As git's index does, each entry records a path with its device, inode, size, mtime and ctime (nanoseconds),
the context it was classified in (`classify_cache.context_hash`: the classifier, the table sizes and
schemas) and the cache key of the bytes read. A later run that finds the same path with the same stat and
the same context takes the key without reading the file; any other file is read and hashed as before.

Racy files: a file changed again within the same clock tick (or the same second, on a file system that keeps
seconds) can keep its size and mtime. So an entry is only recorded for a file whose mtime and ctime are
more than `RACY_NS` older than the moment the run started, before its first `stat`; a file changed since
then gets a ctime (which nothing can set back) inside that window, so its stat differs from the recorded
one. A file too recent to be recorded is read and hashed until a later run records it. This assumes the
file system's clock agrees with this machine's within `RACY_NS`, as git's racy check does.

One file per cache directory, `classify-index-v1.bin`, read whole (about 150 bytes a file):

    header  MAGIC, entry count (u32), length of the names (u32), CRC-32 of all that follows (u32)
    entries count x (dev u64, inode u64, size u64, mtime_ns i64, ctime_ns i64, context 16 bytes, key 16)
    names   the entries' paths in UTF-8 (surrogateescape), each followed by a NUL byte

A run that recorded something new writes a new file (this run's entries first, then older ones for other
paths while the file stays under `MAX_INDEX_BYTES`) and renames it over the old one; a file that is not
ours, or whose CRC does not match, is ignored and replaced.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

from bot.classify_cache import write_atomically

FILE_NAME = "classify-index-v1.bin"
MAGIC = b"PDMIDX1\n"
MAX_INDEX_BYTES = 8 * 1024 * 1024  # about 55,000 files
RACY_NS = 3_000_000_000  # the coarsest common timestamp granularity (2 s, FAT) and a clock tick, with room
_HEADER = struct.Struct("<8sIII")
_ENTRY = struct.Struct("<QQQqq16s16s")
_ENCODING = ("utf-8", "surrogateescape")

Row = tuple[int, int, int, int, int, bytes, bytes]  # dev, inode, size, mtime_ns, ctime_ns, context, key


class StatIndex:
    """The entries of one cache directory, and those this run records; `save` writes them if new."""

    def __init__(self, folder: Path, *, started_ns: int, max_bytes: int = MAX_INDEX_BYTES) -> None:
        self.folder = folder
        self.path = folder / FILE_NAME
        self.max_bytes = max_bytes
        self._recent_ns = started_ns - RACY_NS  # files changed from this moment on are not recorded
        self._old = _read(self.path)
        self._new: dict[str, Row] = {}  # this run's entries: found unchanged or recorded
        self._changed: set[str] = set()  # paths whose old entry is wrong or missing: the file must be written

    def __len__(self) -> int:
        return len(self._old)

    def key(self, path: str, stat: os.stat_result, context: bytes) -> bytes | None:
        """The cache key recorded for `path` when its stat and context are the ones recorded, else None."""
        row = self._old.get(path)
        if row is None:
            return None
        if row[:6] != (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, context):
            return None
        self._new[path] = row
        return row[6]

    def record(self, path: str, stat: os.stat_result, context: bytes, key: bytes) -> None:
        """Remember the key of the bytes read after `stat`, unless the file changed too recently to trust."""
        if max(stat.st_mtime_ns, stat.st_ctime_ns) >= self._recent_ns:
            if path in self._old:
                self._changed.add(path)  # its old entry is stale: dropped
            return
        row = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, context, key)
        if self._old.get(path) != row:
            self._new[path] = row
            self._changed.add(path)

    def save(self) -> None:
        """Write the index if this run recorded an entry it did not have (or found one stale)."""
        if not self._changed:
            return
        size = _HEADER.size
        rows: list[Row] = []
        names: list[bytes] = []
        kept = ((p, r) for p, r in self._old.items() if p not in self._new and p not in self._changed)
        for path, row in [*self._new.items(), *kept]:
            name = path.encode(*_ENCODING) + b"\0"
            size += _ENTRY.size + len(name)
            if size > self.max_bytes:
                break
            rows.append(row)
            names.append(name)
        body = b"".join(_ENTRY.pack(*row) for row in rows) + b"".join(names)
        header = _HEADER.pack(MAGIC, len(rows), len(body) - _ENTRY.size * len(rows), zlib.crc32(body))
        write_atomically(self.path, [header, body])


def _read(path: Path) -> dict[str, Row]:
    """path → row of every entry; nothing when there is no index, or it is not ours or damaged."""
    try:
        data = path.read_bytes()
        magic, count, names_length, crc = _HEADER.unpack_from(data)
    except (OSError, struct.error):
        return {}
    end = _HEADER.size + _ENTRY.size * count
    if magic != MAGIC or end + names_length != len(data):
        return {}
    if zlib.crc32(memoryview(data)[_HEADER.size :]) != crc:
        return {}
    names = data[end:].decode(*_ENCODING).split("\0")
    if len(names) != count + 1:
        return {}
    return dict(zip(names, _ENTRY.iter_unpack(memoryview(data)[_HEADER.size : end]), strict=False))
