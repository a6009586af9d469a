"""Pending detection end to end: real PostgreSQL, real Redis, python-gitlab against the fake GitLab."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
import redis

from scheduler.adapters.gitlab import GitLabAdapter
from scheduler.adapters.postgres import read_applied_versions
from scheduler.adapters.redis_store import RedisStore
from scheduler.classify.model import Database
from scheduler.errors import PendingSourceError
from scheduler.pending import (
    PendingDiscrepancy,
    PendingSet,
    PendingStrategy,
    detect_pending,
)
from scheduler.records import Baseline, Run, RunStatus
from tests.servers.fake_gitlab import FakeGitLabApi, FakeGitLabServer
from tests.support.worker import gitlab_adapter

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
BASE, DEPLOYED = "b" * 40, "c" * 40
T0 = datetime(2026, 1, 10, tzinfo=UTC)


def p(version: str) -> str:
    return f"db/post_migrate/{version}_migration.rb"


def make_database(versions: set[str]) -> str:
    name = f"pdm_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={name}"
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE schema_migrations (version varchar PRIMARY KEY, finished_at varchar)")
        for version in versions:
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
    return dsn


@pytest.fixture
def databases() -> Iterator[dict[Database, str]]:
    created = {Database.MAIN: make_database({"1", "2", "3"}), Database.CI: make_database({"1", "2"})}
    yield created
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        for dsn in created.values():
            admin.execute(f'DROP DATABASE IF EXISTS "{dsn.rsplit("=", 1)[1]}" WITH (FORCE)')


@pytest.fixture
def gitlab() -> Iterator[tuple[FakeGitLabApi, GitLabAdapter]]:
    server = FakeGitLabServer(FakeGitLabApi(token="t")).start()
    fake = server.fake
    fake.trees[DEPLOYED] = [p(v) for v in ("1", "2", "3", "4", "5")]
    fake.compares[(BASE, DEPLOYED)] = [
        {"old_path": p(v), "new_path": p(v), "new_file": True, "deleted_file": False, "renamed_file": False}
        for v in ("4", "5")
    ]
    yield fake, gitlab_adapter(server.url, "t")
    server.stop()


@pytest.fixture
def state(redis_url: str) -> RedisStore:
    return RedisStore(redis.Redis.from_url(redis_url))


def main_only(path: str) -> Database:
    return Database.MAIN


def test_schema_migrations_versions_are_read(databases: dict[Database, str]) -> None:
    assert read_applied_versions(Database.MAIN, databases[Database.MAIN]) == {"1", "2", "3"}


def test_the_connection_used_is_read_only(databases: dict[Database, str]) -> None:
    with psycopg.connect(databases[Database.MAIN]) as conn:
        conn.read_only = True
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO schema_migrations (version) VALUES ('9')")
    assert "9" not in read_applied_versions(Database.MAIN, databases[Database.MAIN])


def test_an_unreachable_database_is_a_one_line_error() -> None:
    with pytest.raises(PendingSourceError, match="cannot read schema_migrations of the ci database"):
        read_applied_versions(Database.CI, "host=127.0.0.1 port=1 user=postgres dbname=x")


def test_the_database_strategy_alone_uses_each_migrations_own_database(
    databases: dict[Database, str], gitlab: tuple[FakeGitLabApi, GitLabAdapter], state: RedisStore
) -> None:
    _, adapter = gitlab
    classified: list[str] = []

    def database_of(path: str) -> Database:
        classified.append(path)
        return Database.CI if path == p("3") else Database.MAIN

    result = detect_pending(
        "gprd",
        DEPLOYED,
        strategy=PendingStrategy.DATABASE,
        state=state,
        gitlab=adapter,
        dsns=databases,
        applied_versions=read_applied_versions,
        database_of=database_of,
    )

    assert isinstance(result, PendingSet) and result.sources == (PendingStrategy.DATABASE,)
    assert list(result.migrations) == ["3", "4", "5"]
    assert sorted(classified) == [p("3"), p("4"), p("5")]  # versions applied everywhere are not classified


def test_both_sources_agreeing_give_the_pending_set(
    databases: dict[Database, str], gitlab: tuple[FakeGitLabApi, GitLabAdapter], state: RedisStore
) -> None:
    _, adapter = gitlab
    state.set_baseline("gprd", Baseline(BASE, "U_BOB", T0))

    result = detect_pending(
        "gprd",
        DEPLOYED,
        strategy=PendingStrategy.GIT,
        state=state,
        gitlab=adapter,
        dsns=databases,
        applied_versions=read_applied_versions,
        database_of=main_only,
    )

    assert isinstance(result, PendingSet)
    assert result.migrations == {"4": p("4"), "5": p("5")}
    assert result.sources == (PendingStrategy.GIT, PendingStrategy.DATABASE)


def test_a_migration_run_outside_the_bot_is_reported_as_a_discrepancy(
    databases: dict[Database, str], gitlab: tuple[FakeGitLabApi, GitLabAdapter], state: RedisStore
) -> None:
    _, adapter = gitlab
    state.set_baseline("gprd", Baseline(BASE, "U_BOB", T0))
    with psycopg.connect(databases[Database.MAIN], autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (version) VALUES ('4')")

    result = detect_pending(
        "gprd",
        DEPLOYED,
        strategy=PendingStrategy.GIT,
        state=state,
        gitlab=adapter,
        dsns=databases,
        applied_versions=read_applied_versions,
        database_of=main_only,
    )

    assert isinstance(result, PendingDiscrepancy)
    assert (result.git_only, result.database_only) == (("4",), ())


def test_a_stale_starting_sha_that_hides_pending_rows_is_a_discrepancy(
    databases: dict[Database, str], gitlab: tuple[FakeGitLabApi, GitLabAdapter], state: RedisStore
) -> None:
    _, adapter = gitlab
    run = Run("gprd-1", "gprd", ["2"], "2", DEPLOYED, "U_BOB", T0)
    state.create_run(run)
    for status in (RunStatus.APPROVED, RunStatus.TRIGGERED, RunStatus.SUCCESS):
        state.transition_run("gprd-1", status, T0)

    result = detect_pending(
        "gprd",
        DEPLOYED,
        strategy=PendingStrategy.GIT,
        state=state,
        gitlab=adapter,
        dsns=databases,
        applied_versions=read_applied_versions,
        database_of=main_only,
    )

    assert isinstance(result, PendingDiscrepancy) and result.database_only == ("4", "5")


def test_the_git_strategy_alone_starts_from_the_last_successful_run(
    gitlab: tuple[FakeGitLabApi, GitLabAdapter], state: RedisStore
) -> None:
    fake, adapter = gitlab
    state.set_baseline("gprd", Baseline("0" * 40, "U_BOB", T0))
    state.create_run(Run("gprd-1", "gprd", ["1"], "1", BASE, "U_BOB", T0))
    for status in (RunStatus.APPROVED, RunStatus.TRIGGERED, RunStatus.SUCCESS):
        state.transition_run("gprd-1", status, T0)

    result = detect_pending(
        "gprd",
        DEPLOYED,
        strategy=PendingStrategy.GIT,
        state=state,
        gitlab=adapter,
        dsns={},
        applied_versions=read_applied_versions,
        database_of=main_only,
    )

    assert isinstance(result, PendingSet) and list(result.migrations) == ["4", "5"]
    assert fake.calls("compare")[0].query == {"from": BASE, "to": DEPLOYED}
    assert fake.calls("tree") == []
