"""The result of classifying one post-deploy migration (the `classify --json` contract) as a pydantic model.

The classifier itself builds a plain `Result` (`result.py`, no pydantic); `Classification` wraps the same
fields for the bot's records, messages and policies. The enums and `Evidence` live in `result.py` and are
re-exported here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from scheduler.classify.result import FIELDS, Confidence, Database, Evidence, Result, SizeClass
from scheduler.natures import Nature

__all__ = ["Classification", "Confidence", "Database", "Evidence", "SizeClass"]


class Classification(BaseModel):
    """Natures and modifiers of one migration file.

    The classifier's results become one with `from_result` (`model_construct`: no validation at run time)
    and the schema is built on first use (`defer_build`): a one-file `classify` starts faster.
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
    touches_no_table: bool = False  # known to touch none (a no-op, job-system work), not none found

    @classmethod
    def from_result(cls, result: Result) -> Classification:
        """The classifier's plain result as a model (its values already have the right types)."""
        return cls.model_construct(**{name: getattr(result, name) for name in FIELDS})

    @property
    def tables_known(self) -> bool:
        """Whether `tables` is all the migration touches (what `ordering: independent` needs): tables
        were found, or it touches none at all."""
        return bool(self.tables) or self.touches_no_table

    @property
    def largest_size(self) -> SizeClass | None:
        """The largest known size class among the touched tables."""
        order = list(SizeClass)
        sizes = [order.index(s) for s in self.table_sizes.values()]
        return order[max(sizes)] if sizes else None
