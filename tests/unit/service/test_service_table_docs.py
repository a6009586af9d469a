"""The pending refresh reads `db/docs` at the deployed SHA on fakes: once per file, within its limits, and
without them after a GitLab failure."""

from __future__ import annotations

from scheduler.classify.model import Database, SizeClass
from scheduler.errors import GitLabTransientError
from scheduler.gitlab_model import MigrationDiff
from scheduler.records import PendingRecord
from scheduler.service.deploys import refresh_pending
from scheduler.service.table_docs import DOCS_PER_MIGRATION, DOCS_PER_REFRESH
from tests.support.service import Fakes, fakes
from tests.support.worker import BASE, DEPLOYED, SATURDAY, path


def indexes_on(*tables: str) -> str:
    """An undeclared migration adding one index on each of `tables`."""
    adds = "\n".join(f"    add_concurrent_index :{t}, :created_at, name: 'idx_{t}'" for t in tables)
    return f"""class AddIndexes < Gitlab::Database::Migration[2.2]
  milestone '18.1'
  disable_ddl_transaction!

  def up
{adds}
  end

  def down
  end
end
"""


def doc(table: str, size: str = "large", schema: str = "gitlab_ci") -> str:
    """The `db/docs` file of `table`."""
    return f"---\ntable_name: {table}\nclasses:\n- X\ngitlab_schema: {schema}\ntable_size: {size}\n"


def publish(f: Fakes, sources: dict[str, str], docs: dict[str, str]) -> None:
    """`DEPLOYED` adds `sources` (version → Ruby) over the baseline and has `docs` (table → yml)."""
    f.gitlab.compares[(BASE, DEPLOYED)] = MigrationDiff(BASE, DEPLOYED, added=tuple(path(v) for v in sources))
    f.gitlab.files.update({(path(v), DEPLOYED): text for v, text in sources.items()})
    f.gitlab.files.update({(f"db/docs/{t}.yml", DEPLOYED): text for t, text in docs.items()})


def refreshed(f: Fakes) -> dict[str, PendingRecord]:
    result = refresh_pending(f.ctx, SATURDAY, "gstg", DEPLOYED, SATURDAY)
    assert result.problem is None
    return {m.version: m for m in f.store.pending("gstg")}


def doc_reads(f: Fakes) -> list[str]:
    return [p for p in f.gitlab.reads if p.startswith("db/docs/")]


def incomplete(f: Fakes) -> list[str]:
    return [e.reason for e in f.store.audits if e.action == "table_docs_incomplete"]


def test_each_doc_file_is_read_once_and_an_undocumented_table_is_no_problem() -> None:
    f = fakes(SATURDAY)
    publish(
        f,
        {"1": indexes_on("ci_builds"), "2": indexes_on("ci_builds", "merge_requests")},
        {"ci_builds": doc("ci_builds", "over_limit")},
    )

    pending = refreshed(f)

    assert sorted(doc_reads(f)) == ["db/docs/ci_builds.yml", "db/docs/merge_requests.yml"]
    assert pending["1"].classification.table_sizes == {"ci_builds": SizeClass.OVER_LIMIT}
    assert pending["2"].classification.table_sizes == {"ci_builds": SizeClass.OVER_LIMIT}
    assert {m.classification.database for m in pending.values()} == {Database.CI}
    assert incomplete(f) == []


def test_only_the_first_tables_of_a_migration_are_looked_up_and_the_rest_is_said() -> None:
    f = fakes(SATURDAY)
    tables = [f"table_{i:02d}" for i in range(DOCS_PER_MIGRATION + 2)]
    publish(f, {"1": indexes_on(*tables)}, {t: doc(t) for t in tables})

    pending = refreshed(f)

    assert doc_reads(f) == [f"db/docs/{t}.yml" for t in tables[:DOCS_PER_MIGRATION]]
    assert sorted(pending["1"].classification.table_sizes) == tables[:DOCS_PER_MIGRATION]
    (reason,) = incomplete(f)
    assert reason.startswith("2 table(s) classified without db/docs (table_10, table_11): read limit")


def test_a_refresh_reads_a_bounded_number_of_doc_files() -> None:
    f = fakes(SATURDAY)
    count = DOCS_PER_REFRESH // DOCS_PER_MIGRATION + 1
    groups = {f"{v:03d}": [f"t{v:03d}_{i}" for i in range(DOCS_PER_MIGRATION)] for v in range(count)}
    publish(
        f,
        {v: indexes_on(*tables) for v, tables in groups.items()},
        {t: doc(t) for tables in groups.values() for t in tables},
    )

    pending = refreshed(f)

    assert len(doc_reads(f)) == DOCS_PER_REFRESH and len(pending) == count
    last = pending[f"{count - 1:03d}"].classification
    assert last.table_sizes == {} and (last.database, last.database_assumed) == (Database.MAIN, True)
    (reason,) = incomplete(f)
    assert reason.startswith(f"{DOCS_PER_MIGRATION} table(s) classified without db/docs")


def test_after_a_gitlab_failure_no_more_docs_are_read_and_pending_is_still_refreshed() -> None:
    f = fakes(SATURDAY)
    publish(
        f,
        {"1": indexes_on("ci_builds", "ci_stages"), "2": indexes_on("ci_pipelines")},
        {t: doc(t) for t in ("ci_builds", "ci_stages", "ci_pipelines")},
    )
    f.gitlab.file_fails["db/docs/ci_stages.yml"] = GitLabTransientError("GitLab file: HTTP 500: boom")

    pending = refreshed(f)

    assert doc_reads(f) == ["db/docs/ci_builds.yml", "db/docs/ci_stages.yml"]
    assert pending["1"].classification.table_sizes == {"ci_builds": SizeClass.LARGE}
    assert pending["2"].classification.table_sizes == {}
    (entry,) = [e for e in f.store.audits if e.action == "table_docs_incomplete"]
    assert entry.reason == (
        "2 table(s) classified without db/docs (ci_pipelines, ci_stages): GitLab file: HTTP 500: boom"
    )
    assert entry.details["problem"] == "GitLab file: HTTP 500: boom"
