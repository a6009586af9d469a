"""Learners kept across decisions: each moves forward with the history it learns from."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

S = TypeVar("S")


def slid(kept: list[S], advance: Callable[[S], bool], make: Callable[[], S], keep: int) -> S:
    """The first of `kept` that `advance` moves forward (it moves), else a new one from `make`; `kept`
    then holds it first, most recently used first, at most `keep` of them."""
    found = next((s for s in kept if advance(s)), None)
    if found is None:
        found = make()
    else:
        kept.remove(found)
    kept.insert(0, found)
    del kept[keep:]
    return found
