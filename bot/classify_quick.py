"""`pdm-bot classify --json` with a cache, answered before click is imported when the index knows every file.

Importing click and the command's modules costs about as much as answering 7,700 unchanged files from the
stat index (`classify_index.py`), so the console script tries `answer` first. It reads only the plain forms
of the command's options (`--json`, `--cache`, `--cache-dir DIR`, `--fail-on NATURE`, the last two also as
`--option=value`; paths; `--`) and answers only a `--json` run with a cache in which every file and every
`db/docs` directory is found unchanged in the index and no file's primary nature is in `--fail-on`.
Anything else (another option, `--help`, a path that does not exist, a changed file, a flagged file)
returns False before printing anything, and the click command runs as usual, from the start. A test holds
`read_options` to what click makes of the same arguments.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path


class Options:
    """The `classify` command's parameters, named as the command names them."""

    __slots__ = ("as_json", "cache_dir", "fail_on", "paths", "table_sizes", "use_cache")

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.as_json = False
        self.fail_on: list[str] = []
        self.table_sizes: str | None = None  # never set here: `--table-sizes` is left to click
        self.use_cache = False
        self.cache_dir: str | None = None


def read_options(argv: list[str]) -> Options | None:
    """The parameters click would give the `classify` command for `argv`, when `argv` uses only the forms
    read here; None for anything else (which click then reads, or refuses)."""
    options = Options()
    args = iter(argv)
    for arg in args:
        if arg == "--":
            options.paths += args
            break
        if arg[:1] != "-" or arg == "-":
            options.paths.append(arg)
        elif arg == "--json":
            options.as_json = True
        elif arg == "--cache":
            options.use_cache = True
        else:
            name, equals, value = arg.partition("=")
            if not equals:
                value = next(args, "-")  # the next argument: none, or one like an option, is left to click
                if value[:1] == "-":
                    return None
            if name == "--cache-dir":
                options.cache_dir = value  # the last one, as click takes it
            elif name == "--fail-on" and value in _natures():
                options.fail_on.append(value)
            else:
                return None
    return options if options.paths else None


def _natures() -> set[str]:
    """The values `--fail-on` takes (the natures are imported only when it is given)."""
    from scheduler.natures import Nature

    return {n.value for n in Nature}


def answer(argv: list[str]) -> bool:
    """Print the JSON of `pdm-bot classify ARGV` and return True when the cache index knows every file and
    none is flagged by `--fail-on`; else print nothing and return False."""
    options = read_options(argv)
    if options is None or not options.as_json or not (options.cache_dir or options.use_cache):
        return False  # nothing more imported: the command runs as it would without this module
    gc.disable()  # from here to the output nothing makes cycles: collections would only walk objects
    try:
        return _answer(options)
    finally:
        gc.enable()


def _answer(options: Options) -> bool:
    """`answer` for a `--json` run with a cache."""
    from bot.classify_cache import classifier_version, context_hash, default_folder
    from bot.classify_index import StatIndex
    from bot.classify_output import write_json
    from bot.classify_walk import find_migrations
    from scheduler.errors import PdmError

    cache = Path(options.cache_dir) if options.cache_dir else default_folder()
    try:
        index = StatIndex(cache, started_ns=time.time_ns())
        files, folders = find_migrations(options.paths)
        version = classifier_version()
        contexts = []
        for folder in folders:
            digest = index.documented(folder)
            if digest is None:
                return False  # a changed db/docs directory: the command reads it
            contexts.append(context_hash(version, digest, {}))
        found = index.find(files, contexts)
    except (PdmError, OSError):
        return False  # the command says what is wrong
    if found.unknown or any(primary in options.fail_on for primary in found.primaries):
        return False
    write_json(found.json)
    return True
