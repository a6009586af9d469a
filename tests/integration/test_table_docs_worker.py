"""The worker classifies pending migrations with GitLab's `db/docs` at the deployed SHA: real Redis, real RQ,
python-gitlab against the fake GitLab serving the migration and the doc files."""

from __future__ import annotations

from freezegun import freeze_time

from scheduler.classify.model import Classification, Database, SizeClass
from scheduler.policy.model import load_policy
from scheduler.service.context import WorkerContext
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.support.worker import DEPLOYED, POLICY, SATURDAY, notes, publish, work

V1 = "20260105101500"
CI_BUILDS_DOC = "ci_builds.yml"
UNDECLARED_INDEX = """class AddIndexOnCiBuildsTokenEncrypted < Gitlab::Database::Migration[2.2]
  milestone '18.1'
  disable_ddl_transaction!

  INDEX = 'index_ci_builds_on_token_encrypted'

  def up
    add_concurrent_index :ci_builds, :token_encrypted, name: INDEX
  end

  def down
    remove_concurrent_index_by_name :ci_builds, INDEX
  end
end
"""
DOC = """---
table_name: ci_builds
classes:
- Ci::Build
feature_categories:
- continuous_integration
description: Jobs of pipelines
gitlab_schema: gitlab_ci
table_size: over_limit
"""


def deployed_pending(ctx: WorkerContext, gitlab: FakeGitLabApi, doc: str | None) -> Classification:
    """Deploy a package adding one undeclared index migration on ci_builds (with `doc` as its db/docs file
    when given) and return the stored classification of the pending migration."""
    publish(gitlab, {V1: UNDECLARED_INDEX})
    if doc is not None:
        gitlab.files[(f"db/docs/{CI_BUILDS_DOC}", DEPLOYED)] = doc
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED, SATURDAY.isoformat(), "")
    work(ctx)
    (pending,) = ctx.state.pending("gstg")
    assert "pending_refreshed" in [e.action for e in ctx.state.audit_log(environment="gstg")]
    return pending.classification


def doc_reads(gitlab: FakeGitLabApi) -> list[str]:
    return [r.params["path"] for r in gitlab.calls("file_raw") if r.params["path"].startswith("db/docs/")]


@freeze_time(SATURDAY, tick=True)
def test_the_size_estimate_and_database_of_a_pending_migration_come_from_db_docs(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    found = deployed_pending(ctx, gitlab, DOC)

    assert found.table_sizes == {"ci_builds": SizeClass.OVER_LIMIT}
    assert (found.database, found.database_assumed) == (Database.CI, False)
    durations = ctx.policy.durations.index_and_constraint
    assert ctx.policy.estimate(found) == durations.over_limit != durations.unknown
    assert doc_reads(gitlab) == [f"db/docs/{CI_BUILDS_DOC}"]
    assert all(r.query.get("ref") == DEPLOYED for r in gitlab.calls("file_raw"))


@freeze_time(SATURDAY, tick=True)
def test_the_policy_table_sizes_override_the_documented_size(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    ctx.policy = load_policy(POLICY + "table_sizes:\n  ci_builds: small\n")

    found = deployed_pending(ctx, gitlab, DOC)

    assert found.table_sizes == {"ci_builds": SizeClass.SMALL}
    assert ctx.policy.estimate(found) == ctx.policy.durations.index_and_constraint.small
    assert (found.database, found.database_assumed) == (Database.CI, False)


@freeze_time(SATURDAY, tick=True)
def test_an_undocumented_table_is_classified_without_docs_and_is_no_problem(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    found = deployed_pending(ctx, gitlab, None)

    assert found.table_sizes == {} and (found.database, found.database_assumed) == (Database.MAIN, True)
    assert doc_reads(gitlab) == [f"db/docs/{CI_BUILDS_DOC}"]
    assert "table_docs_incomplete" not in [e.action for e in ctx.state.audit_log(environment="gstg")]


@freeze_time(SATURDAY, tick=True)
def test_a_gitlab_500_on_the_doc_still_refreshes_pending_and_is_audited(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    gitlab.fail_file(f"db/docs/{CI_BUILDS_DOC}", 500)

    found = deployed_pending(ctx, gitlab, DOC)

    assert found.table_sizes == {} and (found.database, found.database_assumed) == (Database.MAIN, True)
    (entry,) = [e for e in ctx.state.audit_log(environment="gstg") if e.action == "table_docs_incomplete"]
    assert entry.reason.startswith("1 table(s) classified without db/docs (ci_builds): GitLab file db/docs/")
    assert "HTTP 500" in entry.reason
    assert [n.pending_total for n in notes(ctx).diffs()] == [1]
