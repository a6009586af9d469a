"""Automatic runs and exactly-once bookkeeping on fakes: withholding, run ownership (RunConflict),
pipeline adoption by `PDM_RUN_ID`, no second POST within the settle time."""

from __future__ import annotations

from datetime import timedelta

from scheduler.errors import GitLabOutcomeUnknown
from scheduler.jobnames import JobName
from scheduler.notes import RunEvent
from scheduler.records import RunStatus
from scheduler.service import evaluation, execution
from tests.support.service import V1, V2, deployed, fakes, stored_run
from tests.support.worker import DEPLOYED, NO_OP, SATURDAY

UNKNOWN = GitLabOutcomeUnknown("GitLab create pipeline for gstg: HTTP 502; GitLab may have done it anyway")


def test_an_automatic_batch_runs_at_once_with_its_run_id_on_the_pipeline() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: NO_OP}, SATURDAY)

    evaluation.evaluate(f.ctx, "gstg", SATURDAY)

    (run,) = f.store.runs("gstg")
    (pipeline,) = f.gitlab.pipelines
    assert run.status is RunStatus.RUNNING and run.pipeline_id == pipeline.id
    assert pipeline.variables["PDM_RUN_ID"] == run.id and pipeline.variables["PDM_TARGET_SHA"] == DEPLOYED
    assert (JobName.POLL.value, (run.id,)) in f.queue.now


def test_an_automatic_run_is_withheld_while_a_pdm_run_request_waits() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: NO_OP}, SATURDAY)
    stored_run(f, "gstg-1", [V1], requested_by="U1", at=SATURDAY)

    evaluation.evaluate(f.ctx, "gstg", SATURDAY)

    withheld = [e for e in f.store.audits if e.action == "auto_run_withheld"]
    assert [e.reason for e in withheld] == ["run gstg-1 was requested; its approval runs it"]
    assert f.gitlab.created == 0 and [r.id for r in f.store.runs("gstg")] == ["gstg-1"]


def test_an_automatic_batch_whose_last_run_failed_waits_for_a_human() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: NO_OP}, SATURDAY)
    stored_run(f, "gstg-1", [V1], RunStatus.FAILED, at=SATURDAY - timedelta(hours=1))

    evaluation.evaluate(f.ctx, "gstg", SATURDAY)

    withheld = [e.reason for e in f.store.audits if e.action == "auto_run_withheld"]
    assert withheld == ["run gstg-1 of this batch failed; use /pdm run"] and f.gitlab.created == 0


def test_an_approved_run_whose_migration_another_run_holds_is_cancelled_at_execute() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: NO_OP, V2: NO_OP}, SATURDAY)
    stored_run(f, "gstg-1", [V1], RunStatus.APPROVED, at=SATURDAY)
    stored_run(f, "gstg-2", [V1, V2], RunStatus.APPROVED, at=SATURDAY)

    execution.execute(f.ctx, SATURDAY, "gstg-2")

    refused = f.store.get_run("gstg-2")
    assert refused.status is RunStatus.CANCELED and "belongs to run gstg-1" in (refused.failure_reason or "")
    assert f.notifier.run_notes(RunEvent.CANCELED)[0].run_id == "gstg-2"
    assert f.gitlab.created == 0 and f.store.lock_holder("gstg") is None


def test_a_post_of_unknown_outcome_that_landed_is_adopted_by_its_run_id() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: NO_OP}, SATURDAY)
    stored_run(f, "gstg-1", [V1], RunStatus.APPROVED, at=SATURDAY)
    f.gitlab.create_fails, f.gitlab.create_lands = UNKNOWN, True

    execution.execute(f.ctx, SATURDAY, "gstg-1")

    run = f.store.get_run("gstg-1")
    assert f.gitlab.created == 1 and run.status is RunStatus.RUNNING
    assert run.pipeline_id == f.gitlab.pipelines[0].id
    assert {"create_outcome_unknown", "pipeline_adopted"} <= set(f.store.actions())


def test_a_reentered_run_adopts_its_pipeline_instead_of_posting_again() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: NO_OP}, SATURDAY)
    stored_run(f, "gstg-1", [V1], RunStatus.TRIGGERED, at=SATURDAY)
    earlier = f.gitlab.create_pipeline("gstg", DEPLOYED, V1, {"PDM_RUN_ID": "gstg-1"})

    execution.execute(f.ctx, SATURDAY, "gstg-1")

    assert f.gitlab.created == 1 and f.store.get_run("gstg-1").pipeline_id == earlier.id
    assert "pipeline_adopted" in f.store.actions()


def test_no_second_post_goes_out_within_the_settle_time_of_an_unknown_one() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: NO_OP}, SATURDAY)
    stored_run(f, "gstg-1", [V1], RunStatus.APPROVED, at=SATURDAY)
    f.gitlab.create_fails = UNKNOWN

    execution.execute(f.ctx, SATURDAY, "gstg-1")
    f.clock.advance(timedelta(seconds=10))
    execution.execute(f.ctx, f.clock.now, "gstg-1", 1)

    assert f.gitlab.created == 0 and f.store.get_run("gstg-1").status is RunStatus.TRIGGERED
    assert [(job, args) for _, job, args in f.queue.later] == [
        (JobName.EXECUTE.value, ("gstg-1", 1)),
        (JobName.EXECUTE.value, ("gstg-1", 2)),
    ]

    f.clock.advance(timedelta(seconds=61))
    execution.execute(f.ctx, f.clock.now, "gstg-1", 2)

    assert f.gitlab.created == 1 and f.store.get_run("gstg-1").status is RunStatus.RUNNING


def test_a_pipeline_that_ends_moves_the_rollback_line_and_evaluates_again() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: NO_OP}, SATURDAY)
    evaluation.evaluate(f.ctx, "gstg", SATURDAY)
    (run,) = f.store.runs("gstg")
    f.gitlab.finish(run.pipeline_id or 0, "success")

    execution.poll(f.ctx, SATURDAY + timedelta(minutes=3), run.id)

    done = f.store.get_run(run.id)
    assert done.status is RunStatus.SUCCESS and f.store.last_successful_run("gstg") == done
    assert f.store.pending("gstg") == [] and set(f.store.successes("gstg")) == {V1}
    assert f.store.counters.runs[("gstg", "success")] == 1
    assert [args for job, args in f.queue.now if job == JobName.EVALUATE.value] == [("gstg",), ("gprd",)]
