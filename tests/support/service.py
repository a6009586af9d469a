"""Use cases on in-memory fakes: a `WorkerContext` over FakeStore, FakeGitLab, FakeQueue, FakeNotifier and
a manual clock; no server, no freezegun (`now` is passed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.classify import classify_source
from scheduler.policy.model import load_policy
from scheduler.records import Deployment, DeploymentStatus, PendingRecord, Run, RunStatus
from scheduler.service.context import Timing, WorkerContext
from tests.fakes import FakeGitLab, FakeNotifier, FakeQueue, FakeStore, ManualClock
from tests.support.worker import DEPLOYED, POLICY, path

V1, V2, V3 = "20260105101500", "20260105102200", "20260105102900"


@dataclass
class Fakes:
    """A context on fakes, and the fakes themselves to assert on."""

    ctx: WorkerContext
    store: FakeStore
    gitlab: FakeGitLab
    queue: FakeQueue
    notifier: FakeNotifier
    clock: ManualClock


def fakes(now: datetime, policy_text: str = POLICY) -> Fakes:
    """A fresh context at `now` (the test policy; runs start without a starting-soon delay)."""
    clock = ManualClock(now)
    store, gitlab, queue = FakeStore(clock), FakeGitLab(), FakeQueue()
    notifier = FakeNotifier(store)
    ctx = WorkerContext(
        state=store,
        gitlab=gitlab,
        notifier=notifier,
        policy=load_policy(policy_text),
        queue=queue,
        channel="C0RELEASE",
        timing=Timing(starting_soon=timedelta(0), poll_interval=timedelta(seconds=1)),
        clock=clock,
    )
    return Fakes(ctx, store, gitlab, queue, notifier, clock)


def pending_record(version: str, source: str, at: datetime, sha: str = DEPLOYED) -> PendingRecord:
    """A stored pending migration of `version` with its classified `source`."""
    return PendingRecord(version, path(version), classify_source(source.encode(), path(version)), sha, at)


def deployed(f: Fakes, env: str, sources: dict[str, str], at: datetime, sha: str = DEPLOYED) -> None:
    """`sha` is deployed on `env` at `at` with `sources` (version → Ruby) pending."""
    f.store.record_deployment(env, Deployment(1, sha, sha[:8], at, DeploymentStatus.SUCCESS))
    f.store.set_pending(env, [pending_record(v, text, at, sha) for v, text in sources.items()])


def stored_run(
    f: Fakes,
    run_id: str,
    migrations: list[str],
    status: RunStatus = RunStatus.REQUESTED,
    *,
    requested_by: str = "pdm-bot",
    at: datetime,
    env: str = "gstg",
) -> Run:
    """A run put straight into the store."""
    run = Run(
        id=run_id,
        environment=env,
        migrations=migrations,
        up_to_version=migrations[-1],
        target_sha=DEPLOYED,
        requested_by=requested_by,
        requested_at=at,
        status=status,
        approved_by=["U1"] if status is RunStatus.APPROVED else [],
    )
    f.store.create_run(run)
    return run
