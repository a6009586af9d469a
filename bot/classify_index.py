"""The stat index in front of the `classify --cache` store: an unchanged file costs a `stat`, not a read.

As git's index does, each entry records a path with its device, inode, size, mtime and ctime (nanoseconds);
with them the context the file was classified in (`classify_cache.context_hash`: the classifier, the table
sizes and schemas), the cache key of the bytes read, and the file's ready output: its primary nature and
its JSON object, path included. A later run that finds the same path with the same stat and context prints
that output without reading the file; any other file is read and hashed and looked up in the store. A
`db/docs` directory has an entry too: the digest of its sizes and schemas, under a digest of its files' stats.

Racy files: a file changed again within the same clock tick (or the same second, on a file system that keeps
seconds) can keep its size and mtime. So an entry is only recorded for a file whose mtime and ctime are
more than `RACY_NS` older than the moment the run started, before its first `stat`; a file changed since
then gets a ctime (which nothing can set back) inside that window, so its stat differs from the recorded
one. A file too recent to be recorded is read and hashed until a later run records it. This assumes the
file system's clock agrees with this machine's within `RACY_NS`, as git's racy check does.

One file per cache directory, `classify-index-v1.bin`, memory-mapped:

    header  INDEX_MAGIC, entry count (u32), length of the names (u32), CRC-32 of all that follows (u32)
    entries count x (dev u64, inode u64, size u64, mtime_ns i64, ctime_ns i64, context 16 bytes, key 16,
            offset u64, length u32 of the value)
    names   each entry's path in UTF-8 (surrogateescape) and primary nature, each followed by a NUL byte
    values  each entry's JSON object in UTF-8

A run that recorded something new writes a new file (this run's entries first, then older ones for other
paths while the file stays under `MAX_INDEX_BYTES`) and renames it over the old one. A file that is not
ours, or does not match its CRC (checked once, when loaded: one call is cheaper than one per file), is
ignored and replaced.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import struct
import zlib
from pathlib import Path

from bot.classify_cache import docs_digest, write_atomically
from bot.classify_walk import docs_files

INDEX_FILE_NAME = "classify-index-v1.bin"
INDEX_MAGIC = b"PDMIDX1\n"
MAX_INDEX_BYTES = 32 * 1024 * 1024  # about 18,000 GitLab-sized migrations, as the store
RACY_NS = 3_000_000_000  # the coarsest common timestamp granularity (2 s, FAT) and a clock tick, with room
_HEADER = struct.Struct("<8sIII")
_SIGNATURE = struct.Struct("<QQQqq16s")  # dev, inode, size, mtime_ns, ctime_ns, context
_OUTPUT = struct.Struct("<16sQI")  # key, offset and length of the JSON object
_ENTRY = struct.Struct(_SIGNATURE.format + _OUTPUT.format[1:])
_ENCODING = ("utf-8", "surrogateescape")
NO_DOCS = docs_digest({}, {})  # the digest of a checkout without db/docs

Signature = tuple[int, int, int, int, int, bytes]  # dev, inode, size, mtime_ns, ctime_ns, context
Row = tuple[int, int, int, int, int, bytes, bytes, int, int]  # signature, key, offset, length (as stored)
Text = bytes | memoryview  # a JSON object; a memoryview of this file when found here (no copy)
Output = tuple[bytes, str, Text]  # cache key, primary nature, JSON object
Entry = tuple[Signature, bytes, str, Text]  # signature and output


def docs_signature(files: list[Path]) -> tuple[bytes, int]:
    """A digest of the stats of a `db/docs` directory's files (name, device, inode, size, mtime, ctime) and
    the newest of their mtimes and ctimes: the documented sizes are read again only when it changes."""
    digest = hashlib.sha256()
    newest = 0
    for path in files:
        stat = path.stat()
        newest = max(newest, stat.st_mtime_ns, stat.st_ctime_ns)
        digest.update(f"{path.name}\0{signature(stat, b'')[:5]}\0".encode(*_ENCODING))
    return digest.digest()[:16], newest


def signature(stat: os.stat_result, context: bytes) -> Signature:
    """What must not have changed for a file's entry to hold: its stat and the context."""
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, context)


class Lookup:
    """What the index knows of a run's files, in their order: for a file found unchanged its cache key,
    primary nature and JSON object; for the others (`unknown`: position and the `stat` taken before
    reading it), empty placeholders."""

    __slots__ = ("json", "keys", "primaries", "unknown")

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.primaries: list[str] = []
        self.json: list[Text] = []
        self.unknown: list[tuple[int, os.stat_result]] = []


class StatIndex:
    """The entries of one cache directory, read-only once loaded; `save` writes the new ones, if any."""

    def __init__(self, folder: Path, *, started_ns: int, max_bytes: int = MAX_INDEX_BYTES) -> None:
        self.path = folder / INDEX_FILE_NAME
        self.max_bytes = max_bytes
        self._recent_ns = started_ns - RACY_NS  # files changed from this moment on are not recorded
        self._map: mmap.mmap | bytes = b""
        self._view = memoryview(b"")
        self._entries: dict[str, tuple[int, str]] = {}  # path → offset of its entry, primary nature
        self._found: list[str] = []  # this run's paths found unchanged
        self._new: dict[str, Entry] = {}  # recorded by this run
        self._stale: set[str] = set()  # old entries found changed and not recorded again
        self._docs: dict[str, tuple[bytes, int]] = {}  # db/docs directories: `docs_signature` taken
        try:
            with open(self.path, "rb") as handle:
                if os.fstat(handle.fileno()).st_size >= _HEADER.size:
                    self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError:
            return  # no index yet, or unreadable: every file is read
        self._view = memoryview(self._map)
        self._entries = _read_entries(self._map)

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, files: list[tuple[str, int]], contexts: list[bytes]) -> Lookup:
        """`stat` each file (path, index of its context) and take what the index has for it if its stat
        and context are the recorded ones: one `stat` and a look-up a file."""
        entries, data, view, found, stat_of = self._entries.get, self._map, self._view, self._found, os.stat
        pack, output, size = _SIGNATURE.pack, _OUTPUT.unpack_from, _SIGNATURE.size
        lookup = Lookup()
        keys, primaries, texts, unknown = lookup.keys, lookup.primaries, lookup.json, lookup.unknown
        for n, (path, context) in enumerate(files):
            stat = stat_of(path)
            entry = entries(path)
            if entry is not None:
                at, primary = entry
                recorded = data[at : at + size]  # compared as stored: nothing unpacked for a changed file
                if recorded == pack(
                    stat.st_dev,
                    stat.st_ino,
                    stat.st_size,
                    stat.st_mtime_ns,
                    stat.st_ctime_ns,
                    contexts[context],
                ):
                    key, offset, length = output(data, at + size)
                    keys.append(key)
                    primaries.append(primary)
                    texts.append(view[offset : offset + length])
                    found.append(path)
                    continue
            keys.append(b"")
            primaries.append("")
            texts.append(b"")
            unknown.append((n, stat))
        return lookup

    def documented(self, folder: Path | None) -> bytes | None:
        """The digest of the sizes and schemas of a `db/docs` directory (`classify_cache.docs_digest`; None:
        no directory, no sizes) if its files have the stats recorded with it, else None: to be read, and
        given to `record_docs`."""
        if folder is None:
            return NO_DOCS
        path = os.path.join(folder, "")  # a directory: no migration file has this path
        self._docs[path] = stats = docs_signature(docs_files(folder))
        if path not in self._entries:
            return None
        signature, digest, _, _ = self._entry(path)
        if signature[5] != stats[0]:
            return None
        self._found.append(path)
        return digest

    def record_docs(self, folder: Path | None, digest: bytes) -> None:
        """Remember the digest of a `db/docs` directory read after `documented` took its files' stats,
        unless one of them changed too recently."""
        if folder is None:
            return
        path = os.path.join(folder, "")
        signature, newest = self._docs[path]
        if newest < self._recent_ns:
            self._new[path] = ((0, 0, 0, 0, 0, signature), digest, "", b"")
        elif path in self._entries:
            self._stale.add(path)

    def record(self, path: str, stat: os.stat_result, context: bytes, output: Output) -> None:
        """Remember a file read after `stat` (its key, primary nature and JSON object), unless it changed
        too recently to trust its stat."""
        if max(stat.st_mtime_ns, stat.st_ctime_ns) < self._recent_ns:
            self._new[path] = (signature(stat, context), *output)
        elif path in self._entries:
            self._stale.add(path)

    def save(self) -> None:
        """Write the index if this run recorded a file or found an entry stale."""
        if not self._new and not self._stale:
            return
        rows: list[Row] = []
        names: list[bytes] = []
        values: list[Text] = []
        size = _HEADER.size
        for path, (stat, key, primary, text) in self._kept():
            name = f"{path}\0{primary}\0".encode(*_ENCODING)
            size += _ENTRY.size + len(name) + len(text)
            if size > self.max_bytes:
                break
            rows.append((*stat, key, 0, len(text)))
            names.append(name)
            values.append(text)
        names_length = sum(map(len, names))
        offset = _HEADER.size + _ENTRY.size * len(rows) + names_length
        packed = []
        for row in rows:
            packed.append(_ENTRY.pack(*row[:7], offset, row[8]))
            offset += row[8]
        crc = zlib.crc32(b"".join([*packed, *names]))
        for text in values:  # not joined: the values are most of the file
            crc = zlib.crc32(text, crc)
        header = _HEADER.pack(INDEX_MAGIC, len(rows), names_length, crc)
        write_atomically(self.path, [header, *packed, *names, *values])

    def _kept(self) -> list[tuple[str, Entry]]:
        """This run's files (recorded or found), then the old entries of other paths."""
        kept = dict(self._new)
        for path in self._found:
            kept.setdefault(path, self._entry(path))
        for path in self._entries:
            if path not in kept and path not in self._stale:
                kept[path] = self._entry(path)
        return list(kept.items())

    def _entry(self, path: str) -> Entry:
        """An old entry as recorded."""
        at, primary = self._entries[path]
        dev, inode, size, mtime_ns, ctime_ns, context = _SIGNATURE.unpack_from(self._map, at)
        key, offset, length = _OUTPUT.unpack_from(self._map, at + _SIGNATURE.size)
        text = self._view[offset : offset + length]
        return (dev, inode, size, mtime_ns, ctime_ns, context), key, primary, text


def _read_entries(data: mmap.mmap | bytes) -> dict[str, tuple[int, str]]:
    """path → (offset of its entry, primary nature) of every entry; nothing when the file is not ours or is
    damaged (entries are unpacked only when used)."""
    try:
        magic, count, names_length, crc = _HEADER.unpack_from(data)
    except struct.error:
        return {}
    end = _HEADER.size + _ENTRY.size * count
    if magic != INDEX_MAGIC or end + names_length > len(data):
        return {}
    if zlib.crc32(memoryview(data)[_HEADER.size :]) != crc:
        return {}
    names = data[end : end + names_length].decode(*_ENCODING).split("\0")
    if len(names) != 2 * count + 1:
        return {}
    offsets = range(_HEADER.size, end, _ENTRY.size)
    return dict(zip(names[0::2], zip(offsets, names[1::2], strict=False), strict=False))  # built in C
