"""Building blocks of the worker tests: a policy, migration sources, a context on the fake GitLab."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from bot.slack_client import SlackTransport, make_web_client
from scheduler.adapters.gitlab import GitLabAdapter
from scheduler.adapters.redis_outbox import Outbox
from scheduler.adapters.redis_store import RedisStore
from scheduler.bootstrap import outbox_timing
from scheduler.jobnames import QUEUE_NAME
from scheduler.outbox import OutboxNotifier
from scheduler.policy.model import Policy, load_policy
from scheduler.service.context import Timing, WorkerContext, clock
from scheduler.settings import Settings
from tests.fakes import FakeNotifier
from tests.servers.fake_gitlab import FakeGitLabApi

TOKEN = "glpat-worker-tests"
BASE = "b" * 40
DEPLOYED = "c0ffee" + "d" * 34
SATURDAY = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)  # the weekend window is open
WEDNESDAY_NIGHT = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)  # closed, outside working hours
NEXT_SATURDAY = datetime(2026, 1, 10, 0, 0, tzinfo=UTC)

POLICY = f"""
timezone: UTC
environments:
  - name: gstg
    baseline: "{BASE}"
    variables: {{POSTDEPLOY_PIPELINE: "true"}}
  - name: gprd
    requires: gstg
windows:
  - {{name: weekend, kind: allow, schedule: "0 0 * * 6", duration: 48h}}
natures:
  no_op:                 {{windows: [always], mode: auto}}
  background_scheduling: {{windows: [always], mode: auto}}
  index_and_constraint:  {{windows: [weekend], mode: approval}}
  data_migration:        {{windows: [weekend], mode: approval}}
  ddl_cleanup:           {{windows: [weekend], mode: approval}}
  unknown:               {{windows: [weekend], mode: approval}}
approvers: {{users: [U1, U2]}}
"""

NO_OP = """class NoOpThing < Gitlab::Database::Migration[2.2]
  milestone '18.1'

  def up
    # no-op
  end

  def down
    # no-op
  end
end
"""

INDEX = """class AddIndexOnMergedAt < Gitlab::Database::Migration[2.2]
  milestone '18.1'
  disable_ddl_transaction!

  INDEX = 'idx_merge_requests_on_merged_at'

  def up
    add_concurrent_index :merge_requests, :merged_at, name: INDEX
  end

  def down
    remove_concurrent_index_by_name :merge_requests, INDEX
  end
end
"""


def path(version: str) -> str:
    """The post-deploy migration file of `version`."""
    return f"db/post_migrate/{version}_migration.rb"


def publish(fake: FakeGitLabApi, sources: dict[str, str], sha: str = DEPLOYED, base: str = BASE) -> None:
    """Make `sha` add `sources` (version → Ruby) over `base` in the fake repository."""
    fake.commits.append(sha)
    fake.compares[(base, sha)] = [
        {
            "old_path": path(v),
            "new_path": path(v),
            "new_file": True,
            "deleted_file": False,
            "renamed_file": False,
        }
        for v in sources
    ]
    fake.trees[sha] = [path(v) for v in sources]
    for version, text in sources.items():
        fake.files[(path(version), sha)] = text


def policy() -> Policy:
    """The test policy."""
    return load_policy(POLICY)


def gitlab_adapter(gitlab_url: str, token: str = TOKEN, **settings: Any) -> GitLabAdapter:
    """The adapter as the worker builds it from `PDM_GITLAB_*` settings (production defaults unless given)."""
    return GitLabAdapter.from_settings(
        Settings(
            gitlab_url=gitlab_url,
            gitlab_token=token,
            gitlab_project="app",
            gitlab_pipeline_project="deployer",
            **settings,
        )
    )


def make_context(redis_url: str, gitlab_url: str, **timing: Any) -> WorkerContext:
    """A context on the given Redis and fake GitLab, recording notes."""
    connection = Redis.from_url(redis_url)
    state = RedisStore(connection)
    return WorkerContext(
        state=state,
        gitlab=gitlab_adapter(gitlab_url),
        notifier=FakeNotifier(state),
        policy=policy(),
        queue=Queue(QUEUE_NAME, connection=connection),
        channel="C0RELEASE",
        timing=Timing(**{"starting_soon": timedelta(0), "poll_interval": timedelta(seconds=1), **timing}),
    )


class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker whose command listener is told to stop before the worker unsubscribes it. In
    the other order the listener thread, once unsubscribed, waits for a new subscription (redis-py) and
    RQ's join gives up on it only after 1 s: a second lost per `work()`."""

    def unsubscribe(self) -> None:
        if self.pubsub_thread is not None:
            self.pubsub_thread.stop()
        super().unsubscribe()  # type: ignore[no-untyped-call]


def work(ctx: WorkerContext) -> None:
    """Run every queued job in-process (RQ SimpleWorker, burst)."""
    BurstWorker([ctx.queue], connection=ctx.queue.connection).work(burst=True)


def scheduled(ctx: WorkerContext) -> list[tuple[Job, datetime]]:
    """Jobs in the scheduled registry with their times."""
    registry = ScheduledJobRegistry(queue=ctx.queue)
    out = []
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=ctx.queue.connection)
        out.append((job, registry.get_scheduled_time(job)))
    return out


def run_due(ctx: WorkerContext, func: str | None = None) -> int:
    """Move scheduled jobs (of `func`, or all) to the queue now, as the scheduler would when due."""
    registry = ScheduledJobRegistry(queue=ctx.queue)
    moved = 0
    for job, _ in scheduled(ctx):
        if func is None or job.func_name.endswith("." + func):
            registry.remove(job)
            ctx.queue.enqueue_job(job)
            moved += 1
    return moved


def notes(ctx: WorkerContext) -> FakeNotifier:
    """The recording notifier of a test context."""
    assert isinstance(ctx.notifier, FakeNotifier)
    return ctx.notifier


def slack_outbox(ctx: WorkerContext, settings: Settings) -> WorkerContext:
    """Switch `ctx` to the Slack output of production: notes owed in the outbox (timing from the
    `PDM_SLACK_*` settings), delivered by `deliver_notes` jobs through the real `SlackTransport` on
    `settings.slack_api_url`."""
    ctx.outbox_timing = outbox_timing(settings)
    ctx.notifier = OutboxNotifier(Outbox(ctx.state.r), ctx.queue, ctx.outbox_timing, clock)
    ctx.slack = SlackTransport(make_web_client(settings, retries=False), ctx.channel)
    return ctx
