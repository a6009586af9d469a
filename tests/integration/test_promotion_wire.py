"""Deploys promoted from upstream, learnt over the real wire: GitLab deployment webhooks (running, then
success) for gstg and gprd go through the app's `/webhooks/gitlab` to real RQ jobs on real Redis; signed
`/pdm status` and `/pdm plan` then answer from that history. The heavy migration pending on gprd is put
in the store at the moment of the question (its arrival is not under test here); everything the promotion
model learns comes from the deliveries, including `running` events GitLab delivers after the `success`."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time

from scheduler import bootstrap, jobs
from scheduler.classify.model import Classification, SizeClass
from scheduler.natures import Nature
from scheduler.policy.model import load_policy
from scheduler.records import PendingRecord, RunStatus
from scheduler.service.context import Timing, WorkerContext
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import serve_fake_slack
from tests.support.blocks_text import render
from tests.support.web import Served, serve_app
from tests.support.worker import BASE, make_context, publish, work

POLICY = f"""
timezone: UTC
environments:
  - {{name: gstg, baseline: "{BASE}"}}
  - {{name: gprd, requires: gstg, baseline: "{BASE}"}}
natures:
  no_op:                 {{windows: [always], mode: auto}}
  background_scheduling: {{windows: [always], mode: auto}}
  index_and_constraint:  {{windows: [always], mode: approval}}
  data_migration:        {{windows: [always], mode: auto}}
  ddl_cleanup:           {{windows: [always], mode: approval}}
  unknown:               {{mode: manual}}
approvers: {{users: [U1]}}
"""

T0 = datetime(2026, 1, 12, 0, 0, tzinfo=UTC)  # a Monday: less than a week of history, no weekly slots
EVERY = timedelta(hours=4)  # a new package reaches gstg every 4 h
GSTG_TAKES, GPRD_TAKES = timedelta(minutes=30), timedelta(minutes=40)
# gstg success → gprd deploy start of each package; sorted 95 … 107 min: 9 in 10 took at least 96 min
DELAYS = [timedelta(minutes=m) for m in (100, 96, 104, 98, 107, 95, 102, 99, 105, 101)]
HEAVY = "20260112001500"  # a data migration on a large table: estimate 2 h + 10 min overhead


def package(k: int) -> str:
    """The full SHA of the k-th package."""
    return hashlib.sha1(f"package {k}".encode()).hexdigest()


@pytest.fixture
def app(redis_url: str) -> Iterator[Served]:
    for slack in serve_fake_slack():
        with serve_app(redis_url, slack.api_url, POLICY) as served:
            yield served


@pytest.fixture
def ctx(redis_url: str, gitlab: FakeGitLabApi) -> Iterator[WorkerContext]:
    """The worker's context on the same Redis, with the test policy and production timings."""
    context = dataclasses.replace(
        make_context(redis_url, gitlab.url), policy=load_policy(POLICY), timing=Timing()
    )
    bootstrap.install(context)
    yield context
    bootstrap.install(None)


def deliver(
    app: Served,
    ctx: WorkerContext,
    env: str,
    deployment_id: int,
    sha: str,
    status: str,
    at: datetime,
    delivered: datetime | None = None,
) -> None:
    """GitLab's Deployment Hook for `status` at `at`, delivered then (or at `delivered`); the worker
    runs the job it queued."""
    payload: dict[str, Any] = {
        "object_kind": "deployment",
        "status": status,
        "status_changed_at": at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "deployment_id": deployment_id,
        "deployable_id": deployment_id * 10,
        "environment": env,
        "project": {"id": 1, "path_with_namespace": "app"},
        "short_sha": sha[:8],
        "commit_url": f"https://gitlab.example.com/app/-/commit/{sha}",
        "commit_title": "Deploy",
    }
    with freeze_time(delivered or at, tick=True):
        reply = app.webhook(payload)
        assert (reply.status, reply.json()["result"]) == (200, "queued")
        work(ctx)


def deploy(
    app: Served,
    ctx: WorkerContext,
    env: str,
    deployment_id: int,
    sha: str,
    start: datetime,
    *,
    late_running: bool = False,
) -> datetime:
    """One deploy of `sha` to `env` as GitLab reports it (running, then success; `late_running`: the
    `running` event is delivered after the `success`); its success time."""
    done = start + (GSTG_TAKES if env == "gstg" else GPRD_TAKES)
    events = [("running", start), ("success", done)]
    for status, at in reversed(events) if late_running else events:
        deliver(app, ctx, env, deployment_id, sha, status, at, done if late_running else None)
    return done


def promoted_history(
    app: Served, ctx: WorkerContext, gitlab: FakeGitLabApi, late: frozenset[int] = frozenset()
) -> tuple[datetime, datetime]:
    """Ten packages, each to gstg and ~100 min after its success to gprd (the gprd `running` events of
    the packages in `late` delivered after their `success`): (the first package's gprd success, the last
    gprd deploy start)."""
    first = last = T0
    for k, delay in enumerate(DELAYS):
        publish(gitlab, {}, sha=package(k))  # the packages bring no migration
        on_gstg = deploy(app, ctx, "gstg", 100 + k, package(k), T0 + k * EVERY)
        last = on_gstg + delay
        on_gprd = deploy(app, ctx, "gprd", 200 + k, package(k), last, late_running=k in late)
        first = on_gprd if k == 0 else first
    return first, last


def pend_heavy(ctx: WorkerContext, brought_at: datetime) -> None:
    """A data migration on a large table, brought to gprd by the first package; it ran on gstg."""
    path = f"db/post_migrate/{HEAVY}_backfill_ci_builds_partition_id.rb"
    classification = Classification(
        path=path,
        version=HEAVY,
        name="BackfillCiBuildsPartitionId",
        primary_nature=Nature.DATA_MIGRATION,
        natures=[Nature.DATA_MIGRATION],
        tables=["ci_builds"],
        table_sizes={"ci_builds": SizeClass.LARGE},
    )
    ctx.state.set_pending("gprd", [PendingRecord(HEAVY, path, classification, package(0), brought_at)])
    ctx.state.record_successes("gstg", [HEAVY], brought_at - timedelta(minutes=10))


def answer(app: Served, command: str) -> str:
    reply = app.slash(command)
    assert reply.status == 200
    return render(reply.json()["blocks"])


@pytest.mark.parametrize("late", [frozenset(), frozenset({3, 7})], ids=["in-order", "two-running-late"])
def test_a_package_awaiting_promotion_keeps_a_heavy_run_from_starting_before_it(
    app: Served, ctx: WorkerContext, gitlab: FakeGitLabApi, late: frozenset[int]
) -> None:
    brought_at, _ = promoted_history(app, ctx, gitlab, late)
    awaited = package(len(DELAYS))
    publish(gitlab, {}, sha=awaited)
    staged = deploy(app, ctx, "gstg", 100 + len(DELAYS), awaited, T0 + len(DELAYS) * EVERY)
    pend_heavy(ctx, brought_at)
    now = staged + timedelta(minutes=20)  # the promotion is due 96 min after gstg had the package

    with freeze_time(now, tick=True):
        status, plan = answer(app, "status gprd"), answer(app, "plan gprd")
        jobs.evaluate("gprd")

    promotion = (
        f"package {awaited[:8]} awaits promotion from gstg (deployed there Tue 2026-01-13 16:30 UTC; "
        "promotions took 1h36m–1h47m)"
    )
    limit = f"would not end before Tue 2026-01-13 18:06 UTC ({promotion})"
    assert "Decision: :hourglass: wait" in status and limit in status
    assert "*gprd* at" in plan and ": :hourglass: wait" in plan and limit in plan
    projected = plan.split("*Projected runs*")[1].split("*Guards*")[0]  # after the awaited deploy's stretch
    assert "|2026-01-13T19:17:00+00:00> · execute" in projected, projected
    assert ctx.state.runs("gprd") == [] and gitlab.calls("create_pipeline") == []

    promoted = deploy(app, ctx, "gprd", 200 + len(DELAYS), awaited, staged + timedelta(minutes=100))
    with freeze_time(promoted, tick=True):
        assert ": :arrow_forward: run now" in answer(app, "plan gprd")  # right after it: the clearest moment
    (run,) = ctx.state.runs("gprd")  # the evaluation after that deploy: auto, starting soon
    assert (run.migrations, run.status, run.requested_by) == ([HEAVY], RunStatus.APPROVED, "pdm-bot")


def test_with_no_package_awaited_nothing_is_expected_before_the_shortest_promotion(
    app: Served, ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    brought_at, last_start = promoted_history(app, ctx, gitlab)
    pend_heavy(ctx, brought_at)
    now = last_start + timedelta(hours=2, minutes=40)  # gaps between gprd deploys: 3h48m … 4h09m

    with freeze_time(now, tick=True):
        status, plan = answer(app, "status gprd"), answer(app, "plan gprd")

    room = (
        "would not end before Tue 2026-01-13 18:27 UTC (no package awaits promotion from gstg, and 9 in 10 "
        "of the last 10 promotions started at least 1h36m after gstg had the package)"
    )
    assert "Decision: :hourglass: wait" in status and room in status and room in plan
