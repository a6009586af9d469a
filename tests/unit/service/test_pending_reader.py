"""The database source of pending detection reads `schema_migrations` through the context's
`AppliedVersions` port (PostgreSQL in production, `tests/integration/test_pending_sources.py`)."""

from __future__ import annotations

import pytest

from scheduler.classify.model import Database
from scheduler.errors import PendingSourceError
from scheduler.pending import PendingSet, PendingStrategy, detect_pending
from tests.support.service import V1, V2, V3, Fakes, fakes
from tests.support.worker import DEPLOYED, SATURDAY, path

DSNS = {Database.MAIN: "dbname=main", Database.CI: "dbname=ci"}


def detect(f: Fakes) -> PendingSet:
    found = detect_pending(
        "gstg",
        DEPLOYED,
        strategy=PendingStrategy.DATABASE,
        state=f.store,
        gitlab=f.gitlab,
        dsns=f.ctx.dsns,
        applied_versions=f.ctx.applied_versions,
        database_of=lambda p: Database.CI if p == path(V3) else Database.MAIN,
    )
    assert isinstance(found, PendingSet)
    return found


def test_each_configured_database_is_read_through_the_context_port() -> None:
    f = fakes(SATURDAY)
    f.gitlab.trees[DEPLOYED] = [path(v) for v in (V1, V2, V3)]
    applied = {Database.MAIN: {V1, V3}, Database.CI: {V1}}
    asked: list[tuple[Database, str]] = []

    def applied_versions(database: Database, dsn: str) -> set[str]:
        asked.append((database, dsn))
        return applied[database]

    f.ctx.dsns, f.ctx.applied_versions = DSNS, applied_versions
    assert list(detect(f).migrations) == [V2, V3]  # V3 is a ci migration, missing from ci
    assert asked == [(Database.MAIN, "dbname=main"), (Database.CI, "dbname=ci")]


def test_a_context_without_a_reader_cannot_read_a_configured_database() -> None:
    f = fakes(SATURDAY)
    f.ctx.dsns = DSNS
    with pytest.raises(PendingSourceError, match="schema_migrations of the main database: no reader"):
        detect(f)
