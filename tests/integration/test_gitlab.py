"""GitLabAdapter through python-gitlab against the local fake GitLab."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from scheduler.adapters.gitlab import GitLabAdapter
from scheduler.errors import (
    GitLabAuthError,
    GitLabNotFound,
    GitLabOutcomeUnknown,
    GitLabRequestError,
    GitLabTransientError,
)
from scheduler.gitlab_model import MigrationDiff, post_migration_diff
from scheduler.settings import Settings
from tests.conftest import free_port
from tests.servers.fake_gitlab import FakeGitLabApi, FakeGitLabServer

OLD, NEW = "1" * 40, "2" * 40
TOKEN = "glpat-test-token"


@pytest.fixture
def server() -> Iterator[FakeGitLabServer]:
    running = FakeGitLabServer(FakeGitLabApi(token=TOKEN)).start()
    yield running
    running.stop()


@pytest.fixture
def fake(server: FakeGitLabServer) -> FakeGitLabApi:
    return server.fake


def adapter_for(server: FakeGitLabServer, token: str = TOKEN, **settings: object) -> GitLabAdapter:
    """The adapter as `pdm-bot worker` builds it from `PDM_GITLAB_*` settings (defaults unless given)."""
    values = {
        "gitlab_url": server.url,
        "gitlab_token": token,
        "gitlab_project": "gitlab-org/gitlab",
        "gitlab_pipeline_project": "ops/deployer",
        **settings,
    }
    return GitLabAdapter.from_settings(
        Settings(**values),  # type: ignore[arg-type]
        incident_project="gitlab-com/incidents",
        incident_labels=["severity::1", "blocks-deploys"],
    )


@pytest.fixture
def adapter(server: FakeGitLabServer) -> GitLabAdapter:
    return adapter_for(server)


def diff(
    path: str, *, new: bool = False, deleted: bool = False, renamed_from: str | None = None
) -> dict[str, object]:
    return {
        "old_path": renamed_from or path,
        "new_path": path,
        "new_file": new,
        "deleted_file": deleted,
        "renamed_file": renamed_from is not None,
        "diff": "@@ -0,0 +1 @@",
        "a_mode": "100644",
        "b_mode": "100644",
    }


def test_compare_keeps_only_post_deploy_migrations_and_splits_renames(
    adapter: GitLabAdapter, fake: FakeGitLabApi
) -> None:
    fake.compares[(OLD, NEW)] = [
        diff("db/post_migrate/20260101000000_add_index.rb", new=True),
        diff("db/migrate/20260101000001_add_column.rb", new=True),
        diff("db/post_migrate/20250101000000_old.rb", deleted=True),
        diff("db/post_migrate/20250202000000_fixed.rb"),
        diff(
            "db/post_migrate/20260103000000_new_name.rb",
            renamed_from="db/post_migrate/20260103000000_old_name.rb",
        ),
        diff("app/models/user.rb"),
        diff("db/post_migrate/README.md", new=True),
    ]

    result = adapter.compare(OLD, NEW)

    assert result == MigrationDiff(
        OLD,
        NEW,
        added=("db/post_migrate/20260101000000_add_index.rb", "db/post_migrate/20260103000000_new_name.rb"),
        modified=("db/post_migrate/20250202000000_fixed.rb",),
        deleted=("db/post_migrate/20250101000000_old.rb", "db/post_migrate/20260103000000_old_name.rb"),
    )
    assert fake.calls("compare")[0].query == {"from": OLD, "to": NEW}
    assert fake.calls("compare")[0].params["project"] == "gitlab-org/gitlab"


def test_the_pure_diff_sorting_ignores_nested_folders() -> None:
    assert post_migration_diff(OLD, NEW, [diff("db/post_migrate/sub/1_x.rb", new=True)]).added == ()


def test_file_contents_and_the_post_deploy_tree_are_read_at_a_sha(
    adapter: GitLabAdapter, fake: FakeGitLabApi
) -> None:
    fake.files[("db/post_migrate/1_x.rb", NEW)] = "class X < Gitlab::Database::Migration[2.2]\nend\n"
    fake.trees[NEW] = [f"db/post_migrate/{v}_m.rb" for v in range(45)] + ["db/post_migrate/notes.txt"]

    assert adapter.file_text("db/post_migrate/1_x.rb", NEW).startswith("class X")
    paths = adapter.post_migrations_at(NEW)

    assert len(paths) == 45 and "db/post_migrate/notes.txt" not in paths
    assert len(fake.calls("tree")) == 3  # 20 per page: every page is read


def test_a_short_sha_resolves_to_the_full_one(adapter: GitLabAdapter, fake: FakeGitLabApi) -> None:
    fake.commits = ["abcdef12" + "0" * 32]
    assert adapter.resolve_sha("abcdef12") == "abcdef12" + "0" * 32
    with pytest.raises(GitLabNotFound, match="commit 99999999: HTTP 404"):
        adapter.resolve_sha("99999999")


def test_deployments_are_listed_newest_first_across_pages_and_by_status(
    adapter: GitLabAdapter, fake: FakeGitLabApi
) -> None:
    for i in range(1, 26):
        fake.add_deployment(i, "gprd", f"{i:040d}", "success", "2026-01-10T01:00:00.000Z")
    fake.add_deployment(26, "gprd", "f" * 40, "running", "2026-01-10T02:00:00Z")
    fake.add_deployment(27, "gstg", "e" * 40, "running", "2026-01-10T02:00:00Z")

    history = adapter.deployments("gprd")
    running = adapter.running_deployments("gprd")

    assert [d.id for d in history] == list(range(26, 0, -1))
    assert history[0].created_at == datetime(2026, 1, 10, 2, tzinfo=UTC) and history[0].environment == "gprd"
    assert [(d.id, d.sha) for d in running] == [(26, "f" * 40)]
    assert fake.calls("deployments")[-1].query["status"] == "running"
    assert [d.id for d in adapter.deployments("gprd", limit=3)] == [26, 25, 24]


def test_the_pdm_pipeline_is_created_per_the_contract(adapter: GitLabAdapter, fake: FakeGitLabApi) -> None:
    pipeline = adapter.create_pipeline("gprd", NEW, "20260103000000", {"POSTDEPLOY_PIPELINE": "true"})

    call = fake.calls("create_pipeline")[0]
    assert call.params["project"] == "ops/deployer" and call.token == TOKEN
    assert call.body["ref"] == "master"
    assert {v["key"]: v["value"] for v in call.body["variables"]} == {
        "PDM_ENVIRONMENT": "gprd",
        "PDM_TARGET_SHA": NEW,
        "PDM_MIGRATION_VERSION": "20260103000000",
        "POSTDEPLOY_PIPELINE": "true",
    }
    assert pipeline.status == "created" and pipeline.web_url.endswith(f"/pipelines/{pipeline.id}")


def test_extras_cannot_override_the_contract_variables(adapter: GitLabAdapter, fake: FakeGitLabApi) -> None:
    adapter.create_pipeline("gprd", NEW, "1", {"PDM_ENVIRONMENT": "gstg"})
    body = fake.calls("create_pipeline")[0].body
    assert {v["key"]: v["value"] for v in body["variables"]}["PDM_ENVIRONMENT"] == "gprd"


def test_a_short_target_sha_is_refused_before_any_request(
    adapter: GitLabAdapter, fake: FakeGitLabApi
) -> None:
    with pytest.raises(GitLabRequestError, match="full 40-character SHA"):
        adapter.create_pipeline("gprd", "abcdef12", "1")
    assert fake.requests == []


def test_a_pipeline_status_is_followed(adapter: GitLabAdapter, fake: FakeGitLabApi) -> None:
    created = adapter.create_pipeline("gprd", NEW, "1")
    assert not adapter.pipeline(created.id).is_finished
    fake.pipelines[created.id]["status"] = "success"
    assert adapter.pipeline(created.id).is_finished


def test_pdm_pipelines_are_found_by_their_variables(adapter: GitLabAdapter, fake: FakeGitLabApi) -> None:
    gprd = adapter.create_pipeline("gprd", NEW, "1")
    gstg = adapter.create_pipeline("gstg", NEW, "1")
    other = max(fake.pipelines) + 1
    fake.pipelines[other] = {**fake.pipelines[gprd.id], "id": other, "source": "push"}
    fake.pipeline_variables[other] = []

    assert [p.id for p in adapter.pdm_pipelines()] == [gstg.id, gprd.id]
    only = adapter.pdm_pipelines("gprd", source="api")
    assert [p.id for p in only] == [gprd.id] and only[0].variables["PDM_TARGET_SHA"] == NEW
    assert fake.calls("pipelines")[-1].query["source"] == "api"


def test_open_incidents_are_filtered_by_labels_type_and_state(
    adapter: GitLabAdapter, fake: FakeGitLabApi
) -> None:
    base = {
        "web_url": "http://x",
        "created_at": "2026-01-10T00:00:00Z",
        "state": "opened",
        "issue_type": "incident",
    }
    fake.issues = [
        {**base, "iid": 1, "title": "DB down", "labels": ["severity::1", "blocks-deploys"]},
        {**base, "iid": 2, "title": "minor", "labels": ["severity::1"]},
        {**base, "iid": 3, "title": "closed", "labels": ["severity::1", "blocks-deploys"], "state": "closed"},
        {
            **base,
            "iid": 4,
            "title": "not an incident",
            "labels": ["severity::1", "blocks-deploys"],
            "issue_type": "issue",
        },
    ]

    incidents = adapter.open_incidents()

    assert incidents is not None and [i.iid for i in incidents] == [1]
    call = fake.calls("issues")[0]
    assert call.params["project"] == "gitlab-com/incidents"
    assert (call.query["state"], call.query["issue_type"], call.query["labels"]) == (
        "opened",
        "incident",
        "severity::1,blocks-deploys",
    )


def test_incidents_are_not_configured_without_a_project(server: FakeGitLabServer) -> None:
    adapter = GitLabAdapter(server.url, TOKEN, "p", "q", "master")
    assert adapter.open_incidents() is None


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_are_named_and_never_show_the_token(server: FakeGitLabServer, status: int) -> None:
    server.fake.fail_next(status)
    with pytest.raises(GitLabAuthError) as caught:
        adapter_for(server).pipeline(1)
    assert f"HTTP {status}" in str(caught.value) and TOKEN not in str(caught.value)
    assert len(server.fake.requests) == 1  # not retried


def test_a_wrong_token_is_an_auth_error(server: FakeGitLabServer) -> None:
    with pytest.raises(GitLabAuthError, match="PDM_GITLAB_TOKEN"):
        adapter_for(server, token="glpat-wrong").resolve_sha("abc")


def test_a_few_502s_are_retried_through(adapter: GitLabAdapter, fake: FakeGitLabApi) -> None:
    fake.commits = [NEW]
    fake.fail_next(502, times=2)
    assert adapter.resolve_sha(NEW[:8]) == NEW
    assert len(fake.calls("commit")) == 3


def test_persistent_502s_become_a_transient_error_after_a_small_retry_budget(
    adapter: GitLabAdapter, fake: FakeGitLabApi
) -> None:
    fake.fail_next(502, times=10)
    started = time.monotonic()
    with pytest.raises(GitLabTransientError, match="HTTP 502"):
        adapter.pipeline(1)
    assert len(fake.requests) == 4 and time.monotonic() - started < 5


def test_a_slow_gitlab_times_out_into_a_transient_error_after_the_read_retries(
    server: FakeGitLabServer,
) -> None:
    server.fake.slow_next(1.0, times=4)
    adapter = adapter_for(server, gitlab_timeout_seconds=0.2)
    with pytest.raises(GitLabTransientError, match="no answer"):
        adapter.pipeline(1)
    assert len(server.fake.requests) == 4  # the read and python-gitlab's 3 retries, each given up after 0.2 s


def test_other_client_errors_are_permanent_request_errors(
    adapter: GitLabAdapter, fake: FakeGitLabApi
) -> None:
    fake.fail_next(400)
    with pytest.raises(GitLabRequestError, match="HTTP 400"):
        adapter.create_pipeline("gprd", NEW, "1")
    assert len(fake.requests) == 1


# Writes are sent once (production retry settings: python-gitlab retries reads only) --------------------


def production_adapter(server: FakeGitLabServer, **settings: object) -> GitLabAdapter:
    """The adapter as `pdm-bot worker` builds it from settings (defaults unless given)."""
    values = {"gitlab_url": server.url, "gitlab_token": TOKEN, "gitlab_project": "app", **settings}
    return GitLabAdapter.from_settings(Settings(**values))  # type: ignore[arg-type]


def test_a_pipeline_post_answered_502_after_creating_is_sent_once_and_its_outcome_unknown(
    server: FakeGitLabServer,
) -> None:
    server.fake.fault_create(status=502)
    with pytest.raises(GitLabOutcomeUnknown, match=r"HTTP 502.*outcome unknown"):
        production_adapter(server).create_pipeline("gprd", NEW, "1")
    assert len(server.fake.calls("create_pipeline")) == 1 and len(server.fake.pipelines) == 1


def test_a_pipeline_post_answered_after_the_timeout_is_sent_once_and_its_outcome_unknown(
    server: FakeGitLabServer,
) -> None:
    server.fake.fault_create(after=1.5)
    started = time.monotonic()
    with pytest.raises(GitLabOutcomeUnknown, match=r"no answer \(ReadTimeout\)"):
        production_adapter(server, gitlab_timeout_seconds=0.3).create_pipeline("gprd", NEW, "1")
    assert time.monotonic() - started < 1.2  # PDM_GITLAB_TIMEOUT_SECONDS reached python-gitlab
    assert len(server.fake.calls("create_pipeline")) == 1


def test_a_429_on_the_pipeline_post_is_not_resent_and_is_transient_not_unknown(
    server: FakeGitLabServer,
) -> None:
    server.fake.fail_next(429)
    with pytest.raises(GitLabTransientError, match="HTTP 429") as caught:
        production_adapter(server).create_pipeline("gprd", NEW, "1")
    assert not isinstance(caught.value, GitLabOutcomeUnknown)  # GitLab refused it before any work
    assert len(server.fake.requests) == 1 and server.fake.pipelines == {}


def test_a_pipeline_post_without_a_connection_is_transient_not_unknown() -> None:
    adapter = GitLabAdapter(f"http://127.0.0.1:{free_port()}", TOKEN, "app", "deployer", "master")
    with pytest.raises(GitLabTransientError, match="no answer") as caught:
        adapter.create_pipeline("gprd", NEW, "1")
    assert not isinstance(caught.value, GitLabOutcomeUnknown)  # nothing can have reached GitLab


def test_reads_are_still_retried_by_python_gitlab_on_production_settings(server: FakeGitLabServer) -> None:
    server.fake.commits = [NEW]
    server.fake.fail_next(502, times=3)
    assert production_adapter(server).resolve_sha(NEW[:8]) == NEW
    assert len(server.fake.calls("commit")) == 4
