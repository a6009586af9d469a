"""The classification of one migration as plain data, and its JSON (the `classify --json` contract).

Nothing here imports pydantic: `pdm-bot classify` prints `Result`s without building the pydantic
`Classification` (`model.py`), which wraps the same fields for the rest of the bot. `result_json` writes the
bytes `Classification.model_dump_json()` writes (same keys in the same order, compact, UTF-8 unescaped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

from scheduler.natures import Nature


class SizeClass(StrEnum):
    """Table size classes, as in GitLab's `db/docs/*.yml` `table_size`."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"
    OVER_LIMIT = "over_limit"


class Confidence(StrEnum):
    """How sure the classifier is of the primary nature."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Database(StrEnum):
    """Target database, from `restrict_gitlab_migration gitlab_schema: ...`."""

    MAIN = "main"
    CI = "ci"
    SEC = "sec"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One signal found in the source and the nature it points to (a dataclass: files have dozens)."""

    line: int
    signal: str
    nature: Nature | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """Natures and modifiers of one migration file: the fields of `Classification`, in its order."""

    path: str
    version: str | None
    name: str | None
    primary_nature: Nature
    natures: list[Nature]
    database: Database = Database.MAIN
    database_assumed: bool = True
    tables: list[str] = field(default_factory=list)
    table_sizes: dict[str, SizeClass] = field(default_factory=dict)
    declared: bool = False
    confidence: Confidence = Confidence.HIGH
    evidence: list[Evidence] = field(default_factory=list)
    resolution: str | None = None
    disable_ddl_transaction: bool = False
    lock_retries: bool = False
    milestone: str | None = None
    created_tables: list[str] = field(default_factory=list)
    error: str | None = None


FIELDS: tuple[str, ...] = Result.__slots__
# Compact, UTF-8 unescaped: pydantic's JSON escapes the same characters (quote, backslash, controls).
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def result_json(result: Result) -> str:
    """`result` as one compact JSON object, byte for byte what `Classification.model_dump_json()` gives."""
    rows = result.evidence
    evidence = [{"line": e.line, "signal": e.signal, "nature": e.nature, "note": e.note} for e in rows]
    return _ENCODE(
        {
            "path": result.path,
            "version": result.version,
            "name": result.name,
            "primary_nature": result.primary_nature,
            "natures": result.natures,
            "database": result.database,
            "database_assumed": result.database_assumed,
            "tables": result.tables,
            "table_sizes": result.table_sizes,
            "declared": result.declared,
            "confidence": result.confidence,
            "evidence": evidence,
            "resolution": result.resolution,
            "disable_ddl_transaction": result.disable_ddl_transaction,
            "lock_retries": result.lock_retries,
            "milestone": result.milestone,
            "created_tables": result.created_tables,
            "error": result.error,
        }
    )
