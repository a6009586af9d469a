"""The result of classifying one post-deploy migration (the `classify --json` contract)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

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


class Classification(BaseModel):
    """Natures and modifiers of one migration file.

    The classifier builds it with `model_construct` from values of the right types (no validation at run
    time) and the schema is built on first use (`defer_build`): a one-file `classify` starts faster.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    path: str
    version: str | None
    name: str | None
    primary_nature: Nature
    natures: list[Nature]
    database: Database = Database.MAIN
    database_assumed: bool = True
    tables: list[str] = Field(default_factory=list)
    table_sizes: dict[str, SizeClass] = Field(default_factory=dict)
    declared: bool = False
    confidence: Confidence = Confidence.HIGH
    evidence: list[Evidence] = Field(default_factory=list)
    resolution: str | None = None
    disable_ddl_transaction: bool = False
    lock_retries: bool = False
    milestone: str | None = None
    created_tables: list[str] = Field(default_factory=list)
    error: str | None = None

    @property
    def largest_size(self) -> SizeClass | None:
        """The largest known size class among the touched tables."""
        order = list(SizeClass)
        sizes = [order.index(s) for s in self.table_sizes.values()]
        return order[max(sizes)] if sizes else None
