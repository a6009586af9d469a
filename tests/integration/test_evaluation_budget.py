"""An evaluation over its time budget is aborted, audited, counted, told in Slack once, and retried."""

from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time

from scheduler import bootstrap, jobs
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.support.worker import DEPLOYED, INDEX, SATURDAY, make_context, notes, publish, scheduled, work


@freeze_time(SATURDAY, tick=True)
def test_an_evaluation_over_its_budget_is_reported_and_retried(redis_url: str, gitlab: FakeGitLabApi) -> None:
    ctx = make_context(redis_url, gitlab.url, evaluation_budget=timedelta(microseconds=1))
    bootstrap.install(ctx)
    try:
        publish(gitlab, {"20260105101500": INDEX})
        ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED[:8], SATURDAY.isoformat(), "")
        work(ctx)
        jobs.evaluate("gstg")
        overruns = [e for e in ctx.state.audit_log(environment="gstg") if e.action == "evaluate_overrun"]
        assert len(overruns) == 2 and "time budget" in overruns[0].reason
        assert ctx.telemetry.read().overruns == {"gstg": 2}
        told = [t for t in notes(ctx).texts() if "PDM_EVALUATION_BUDGET" in t.text]
        assert len(told) == 1  # one note an hour, not one per evaluation
        assert not notes(ctx).proposals() and not ctx.state.runs("gstg")
        retries = [at for job, at in scheduled(ctx) if job.func_name.endswith(".evaluate")]
        assert retries and all(at > SATURDAY for at in retries)
    finally:
        bootstrap.install(None)
