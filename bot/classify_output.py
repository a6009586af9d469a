"""Print `pdm-bot classify --json`: the JSON objects of the files, written as they are, without a copy."""

from __future__ import annotations

import os
import sys

from bot.classify_index import Text

_IOV_MAX = 1024  # buffers a `writev` takes (POSIX minimum 16; Linux 1024)


def write_json(objects: list[Text]) -> None:
    """Print a JSON list of the compact JSON objects (UTF-8), one per line: with `writev` when stdout is a
    file or a pipe (the objects found in the cache index are memoryviews of it: never copied)."""
    chunks: list[Text] = [b",\n"] * (2 * len(objects) + 1)
    chunks[1::2] = objects
    chunks[0], chunks[-1] = b"[\n", b"\n]\n"
    if not objects:
        chunks = [b"[]\n"]
    sys.stdout.flush()
    try:
        out = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a test's captured output)
        sys.stdout.buffer.write(b"".join(chunks))
        sys.stdout.buffer.flush()
        return
    write_all(out, chunks)


def write_all(fd: int, chunks: list[Text]) -> None:
    """Write every chunk to `fd`, `_IOV_MAX` at a time, going on after a partial write."""
    start = 0
    while start < len(chunks):
        batch = chunks[start : start + _IOV_MAX]
        written = os.writev(fd, batch)
        for chunk in batch:
            if written < len(chunk):
                chunks[start] = memoryview(chunk)[written:]  # the rest of a chunk written in part
                break
            written -= len(chunk)
            start += 1
