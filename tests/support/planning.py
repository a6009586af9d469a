"""Pending migrations for planner tests: a classification of one nature, deployed with a package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from scheduler.classify.model import Classification, SizeClass
from scheduler.natures import Nature
from scheduler.policy.decision import PendingMigration


def classified(
    version: str, nature: Nature, *, tables: Sequence[str] = (), sizes: Mapping[str, SizeClass] | None = None
) -> Classification:
    """A classification of `nature` touching `tables`, with the table `sizes` the classifier found."""
    return Classification(
        path=f"db/post_migrate/{version}_m.rb",
        version=version,
        name="m",
        primary_nature=nature,
        natures=[nature],
        tables=list(tables),
        table_sizes=dict(sizes or {}),
    )


def pending(
    version: str,
    nature: Nature,
    deployed_at: datetime,
    package: str = "old",
    *,
    sizes: Mapping[str, SizeClass] | None = None,
) -> PendingMigration:
    """A pending migration of `nature` from `package`, deployed at `deployed_at`."""
    return PendingMigration(version, classified(version, nature, sizes=sizes), package, deployed_at)
