"""Classify Ruby post-deploy migrations by their nature: `classify` (a plain `Result`), `classify_source`
(the pydantic `Classification`), both from `classifier.py`.

They are loaded on first use: importing the package (or `result`, `tabledocs`) does not load the Ruby parser,
so `pdm-bot classify` answered from its cache starts without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler.classify.result import Result, SizeClass

if TYPE_CHECKING:
    from scheduler.classify.classifier import MAX_BYTES, classify, classify_source

__all__ = ["MAX_BYTES", "Result", "SizeClass", "classify", "classify_source"]
_LAZY = frozenset({"MAX_BYTES", "classify", "classify_source"})


def __getattr__(name: str) -> object:
    if name in _LAZY:
        from scheduler.classify import classifier

        return getattr(classifier, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
