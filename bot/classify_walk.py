"""Find and read the files `pdm-bot classify` is given: migration files, and each checkout's `db/docs`.

Only the standard library (and no `scheduler.classify` module, whose package loads the result types): the
run answered from the cache index imports this and little else.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import repeat
from operator import attrgetter
from pathlib import Path

from scheduler.errors import InputError

_DOCS_DIR = "db/docs"  # `scheduler.classify.tabledocs.DOCS_DIR` (not imported: a test keeps them equal)
READ_SIZE = 64 * 1024
_BY_NAME = attrgetter("name")


def _rb_files(folder: str, found: list[str]) -> list[str]:
    """Append every `*.rb` regular file below `folder` to `found`, in path order: each directory's entries
    sorted by name, a directory's files before the next entry (symbolic links to directories are not
    followed)."""
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=_BY_NAME)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _rb_files(entry.path, found)
        elif entry.name.endswith(".rb") and entry.is_file():
            found.append(entry.path)
    return found


def migration_files(paths: Iterable[str]) -> Iterator[str]:
    """Each path as given when it is a file; every `*.rb` below it, in path order, when it is a directory."""
    for raw in paths:
        if os.path.isdir(raw):
            yield from _rb_files(raw, [])
        elif os.path.isfile(raw):
            yield raw
        else:
            raise InputError(f"{raw}: no such file or directory")


def checkout_docs(path: Path) -> Path | None:
    """The `db/docs` directory of the checkout holding `path`: the nearest ancestor that has one."""
    start = path.resolve()
    for folder in (start, *start.parents) if start.is_dir() else start.parents:
        docs = folder / _DOCS_DIR
        if docs.is_dir():
            return docs
    return None


def docs_files(docs: Path) -> list[Path]:
    """The `*.yml` files of a `db/docs` directory, in name order."""
    return sorted(docs.glob("*.yml"))


def find_migrations(paths: Iterable[str]) -> tuple[list[tuple[str, int]], list[Path | None]]:
    """The files to classify, each with the index of its checkout's `db/docs` directory (None: none)."""
    files: list[tuple[str, int]] = []
    folders: list[Path | None] = []
    index_of: dict[Path | None, int] = {}
    for raw in paths:
        docs_dir = checkout_docs(Path(raw))
        if docs_dir not in index_of:
            index_of[docs_dir] = len(folders)
            folders.append(docs_dir)
        listed = list(migration_files([raw]))
        files += zip(listed, repeat(index_of[docs_dir], len(listed)), strict=True)
    return files, folders


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
