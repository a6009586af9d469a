"""Classify Ruby post-deploy migrations by their nature: `classify_migration` (a plain `Result`),
`classify_source` (the pydantic `Classification`) and `classify_documented` (with GitLab's `db/docs`), from
`classifier.py`.

They are loaded on first use: importing the package (or `result`, `tabledocs`) does not load the Ruby parser
or pydantic, so `pdm-bot classify` answered from its cache starts without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler.classify.result import Result, SizeClass

if TYPE_CHECKING:
    from scheduler.classify.classifier import (
        MAX_BYTES,
        classify_documented,
        classify_migration,
        classify_source,
    )
    from scheduler.classify.model import Classification

__all__ = [
    "MAX_BYTES",
    "Classification",
    "Result",
    "SizeClass",
    "classify_documented",
    "classify_migration",
    "classify_source",
]
_LAZY = {
    "MAX_BYTES": "classifier",
    "classify_migration": "classifier",
    "classify_documented": "classifier",
    "classify_source": "classifier",
    "Classification": "model",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
