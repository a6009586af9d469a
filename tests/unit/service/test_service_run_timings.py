"""A successful run's timing is kept for the planner to learn estimates from; other endings keep none."""

from __future__ import annotations

from datetime import timedelta

from scheduler.natures import Nature
from scheduler.policy.learnt import RunTiming
from scheduler.records import RunStatus
from scheduler.service import execution
from tests.support.service import V1, V2, Fakes, deployed, fakes, stored_run
from tests.support.worker import INDEX, NO_OP, SATURDAY

OVERHEAD = timedelta(minutes=10)  # the policy's default per-run overhead


def started_run(status: str, after: timedelta) -> Fakes:
    """A no-op and an index run started at SATURDAY; their pipeline ends `status` and is polled `after`."""
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: NO_OP, V2: INDEX}, SATURDAY)
    stored_run(f, "gstg-1", [V1, V2], RunStatus.APPROVED, at=SATURDAY)
    execution.execute(f.ctx, SATURDAY, "gstg-1")
    assert f.store.get_run("gstg-1").started_at == SATURDAY
    f.gitlab.finish(f.store.get_run("gstg-1").pipeline_id or 0, status)
    f.clock.advance(after)
    return f


def test_a_successful_run_keeps_its_estimates_by_kind_and_its_time_without_the_overhead() -> None:
    f = started_run("success", timedelta(minutes=45))

    execution.poll(f.ctx, f.clock.now, "gstg-1")

    assert f.store.get_run("gstg-1").status is RunStatus.SUCCESS and f.store.pending("gstg") == []
    assert f.ctx.policy.durations.overhead == OVERHEAD
    assert f.store.run_timings("gstg") == [
        RunTiming(
            finished_at=SATURDAY + timedelta(minutes=45),
            took=timedelta(minutes=45) - OVERHEAD,
            parts=(
                (Nature.NO_OP, None, timedelta(minutes=1)),
                (Nature.INDEX_AND_CONSTRAINT, None, timedelta(minutes=30)),
            ),
        )
    ]
    (entry,) = [e for e in f.store.audits if e.action == "run_success"]
    assert "timing_skipped" not in entry.details


def test_a_run_shorter_than_the_overhead_took_no_time() -> None:
    f = started_run("success", timedelta(minutes=4))

    execution.poll(f.ctx, f.clock.now, "gstg-1")

    (timing,) = f.store.run_timings("gstg")
    assert timing.took == timedelta(0)


def test_failed_and_canceled_runs_keep_no_timing() -> None:
    for status, ended in (("failed", RunStatus.FAILED), ("canceled", RunStatus.CANCELED)):
        f = started_run(status, timedelta(minutes=45))

        execution.poll(f.ctx, f.clock.now, "gstg-1")

        assert f.store.get_run("gstg-1").status is ended
        assert f.store.run_timings("gstg") == []


def test_a_run_whose_pending_record_is_gone_finishes_without_a_timing() -> None:
    f = started_run("success", timedelta(minutes=45))
    f.store.remove_pending("gstg", [V2])

    execution.poll(f.ctx, f.clock.now, "gstg-1")

    assert f.store.get_run("gstg-1").status is RunStatus.SUCCESS and f.store.pending("gstg") == []
    assert f.store.run_timings("gstg") == []
    (entry,) = [e for e in f.store.audits if e.action == "run_success"]
    assert entry.details["timing_skipped"] == f"no pending record of {V2}"
