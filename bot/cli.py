"""The `pdm-bot` command line: `main`, and the click group `cli` (`command_group.py`), imported on use.

`pdm-bot classify --json --cache...` on a tree the cache index knows is answered before click is even
imported (`classify_quick.py`): click and the command's modules cost about as much as answering thousands
of unchanged files. Any other command line, or a run the index cannot answer, goes to the click group.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # what mypy reads as `typing.TYPE_CHECKING`, without importing typing (2 ms)
if TYPE_CHECKING:
    from bot.command_group import CLI_COMMANDS, LazyGroup, cli

__all__ = ["CLI_COMMANDS", "LazyGroup", "cli", "main"]


def __getattr__(name: str) -> object:
    if name in ("CLI_COMMANDS", "LazyGroup", "cli"):
        from bot import command_group

        return getattr(command_group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point."""
    if sys.argv[1:2] == ["classify"]:
        from bot.classify_quick import answer

        if answer(sys.argv[2:]):
            return
    from bot.command_group import cli

    cli()
