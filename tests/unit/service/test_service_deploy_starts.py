"""Deploy starts feed the deploy forecast (gaps between deploys, promotions from upstream): a `running`
event records its start, also when it is delivered after the deployment's `success`; a deployment known
only by its success counts from `deploy_duration` before it until its `running` event tells better."""

from __future__ import annotations

from datetime import timedelta

from scheduler.records import Deployment, DeploymentStatus
from scheduler.service import deploys
from tests.support.service import fakes
from tests.support.worker import DEPLOYED, SATURDAY

STARTED = SATURDAY - timedelta(minutes=40)


def test_a_running_event_records_the_deploy_start_and_marks_the_deploy() -> None:
    f = fakes(SATURDAY)

    deploys.deploy_started(f.ctx, SATURDAY, "gstg", 42, DEPLOYED, STARTED.isoformat())

    assert f.store.deploy_starts("gstg") == [STARTED]
    running = f.store.deployment_in_progress("gstg")
    assert running is not None and running.deployment_id == 42


def test_a_running_event_delivered_after_the_success_still_records_the_start_and_nothing_else() -> None:
    f = fakes(SATURDAY)
    success = Deployment(42, DEPLOYED, DEPLOYED[:8], SATURDAY, DeploymentStatus.SUCCESS)
    f.store.record_deployment("gstg", success)

    deploys.deploy_started(f.ctx, SATURDAY, "gstg", 42, DEPLOYED, STARTED.isoformat())

    assert f.store.deploy_starts("gstg") == [STARTED]
    assert f.store.deployments("gstg") == [success] and f.store.deployment_in_progress("gstg") is None
    assert f.store.actions() == ["deploy_event_stale"]


def test_a_deployment_known_only_by_its_success_counts_from_deploy_duration_before_it() -> None:
    f = fakes(SATURDAY)

    deploys.on_deploy(f.ctx, SATURDAY, "gstg", 42, DEPLOYED, SATURDAY.isoformat(), "")

    assert f.store.deploy_starts("gstg") == [SATURDAY - f.ctx.policy.guards.deploy_duration]
    deploys.deploy_started(f.ctx, SATURDAY, "gstg", 42, DEPLOYED, STARTED.isoformat())  # delivered late
    assert f.store.deploy_starts("gstg") == [STARTED]


def test_a_success_after_its_running_event_adds_no_estimated_start() -> None:
    f = fakes(SATURDAY)
    deploys.deploy_started(f.ctx, STARTED, "gstg", 42, DEPLOYED, STARTED.isoformat())

    deploys.on_deploy(f.ctx, SATURDAY, "gstg", 42, DEPLOYED, SATURDAY.isoformat(), "")

    assert f.store.deploy_starts("gstg") == [STARTED]
