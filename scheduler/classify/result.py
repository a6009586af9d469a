"""The classification of one migration as plain data, and its JSON (the `classify --json` contract).

Nothing here imports pydantic: `pdm-bot classify` prints `Result`s without building the pydantic
`Classification` (`model.py`), which wraps the same fields for the rest of the bot. `result_json` writes the
bytes `Classification.model_dump_json()` writes (same keys in the same order, compact, UTF-8 unescaped).
"""

from __future__ import annotations

import json
import json.encoder
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


@dataclass(slots=True)
class Evidence:
    """One signal found in the source and the nature it points to.

    A slotted dataclass, not frozen (files have dozens: a frozen one costs three times as much to build);
    nothing changes one once built."""

    line: int
    signal: str
    nature: Nature | None = None
    note: str | None = None


@dataclass(slots=True)
class Result:
    """Natures and modifiers of one migration file: the fields of `Classification`, in its order (not
    frozen, like `Evidence`: nothing changes one once built)."""

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
    touches_no_table: bool = False  # known to touch none (a no-op, job-system work), not none found


FIELDS: tuple[str, ...] = Result.__slots__
# pydantic's JSON escapes the same characters as the stdlib's unescaped-UTF-8 string encoder.
_STR = json.encoder.encode_basestring
_BOOL = {True: "true", False: "false"}


def json_string(text: str) -> str:
    """`text` as a JSON string, escaped as pydantic escapes it."""
    return _STR(text)


def _opt(value: str | None) -> str:
    return "null" if value is None else _STR(value)


def _list(values: list[str] | list[Nature]) -> str:
    return "[" + ",".join(map(_STR, values)) + "]"


def _evidence(e: Evidence) -> str:
    return f'{{"line":{e.line},"signal":{_STR(e.signal)},"nature":{_opt(e.nature)},"note":{_opt(e.note)}}}'


def result_json(r: Result) -> str:
    """`r` as one compact JSON object, byte for byte what `Classification.model_dump_json()` gives.

    Written with f-strings (a third faster than building a dict for `json.dumps`); the tests compare it with
    pydantic's output on the corpus and on generated results.
    """
    sizes = ",".join(f"{_STR(t)}:{_STR(s)}" for t, s in r.table_sizes.items())
    return (
        f'{{"path":{_STR(r.path)},"version":{_opt(r.version)},"name":{_opt(r.name)},'
        f'"primary_nature":{_STR(r.primary_nature)},"natures":{_list(r.natures)},'
        f'"database":{_STR(r.database)},"database_assumed":{_BOOL[r.database_assumed]},'
        f'"tables":{_list(r.tables)},"table_sizes":{{{sizes}}},"declared":{_BOOL[r.declared]},'
        f'"confidence":{_STR(r.confidence)},"evidence":[{",".join(map(_evidence, r.evidence))}],'
        f'"resolution":{_opt(r.resolution)},"disable_ddl_transaction":{_BOOL[r.disable_ddl_transaction]},'
        f'"lock_retries":{_BOOL[r.lock_retries]},"milestone":{_opt(r.milestone)},'
        f'"created_tables":{_list(r.created_tables)},"error":{_opt(r.error)},'
        f'"touches_no_table":{_BOOL[r.touches_no_table]}}}'
    )


def result_from_json(text: str | bytes) -> Result:
    """The `Result` that `result_json` wrote as `text` (the classify cache keeps results as their JSON)."""
    data = json.loads(text)
    return Result(
        path=data["path"],
        version=data["version"],
        name=data["name"],
        primary_nature=Nature(data["primary_nature"]),
        natures=[Nature(n) for n in data["natures"]],
        database=Database(data["database"]),
        database_assumed=data["database_assumed"],
        tables=data["tables"],
        table_sizes={t: SizeClass(s) for t, s in data["table_sizes"].items()},
        declared=data["declared"],
        confidence=Confidence(data["confidence"]),
        evidence=[
            Evidence(e["line"], e["signal"], None if e["nature"] is None else Nature(e["nature"]), e["note"])
            for e in data["evidence"]
        ],
        resolution=data["resolution"],
        disable_ddl_transaction=data["disable_ddl_transaction"],
        lock_retries=data["lock_retries"],
        milestone=data["milestone"],
        created_tables=data["created_tables"],
        error=data["error"],
        touches_no_table=data["touches_no_table"],
    )
