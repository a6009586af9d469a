"""An approved run is an explicit set of migrations: it runs whole, or in the parts the decisions let run
(each before the next expected deploy), never because a later light migration may pass ahead of it
(`ordering: independent`): that one runs by itself."""

from __future__ import annotations

from datetime import timedelta

from scheduler.notes import RunEvent, RunNote
from scheduler.records import RunStatus
from scheduler.service import evaluation, execution
from tests.support.service import V1, V2, V3, deployed, fakes, stored_run
from tests.support.worker import INDEX, POLICY, SATURDAY, WEDNESDAY_NIGHT

INDEPENDENT = POLICY + "ordering: independent\n"
BACKFILL = """class QueueBackfillIssuesNamespaceId < Gitlab::Database::Migration[2.2]
  milestone '18.1'

  def up
    queue_batched_background_migration('BackfillIssuesNamespaceId', :issues, :id, batch_size: 5_000)
  end
end
"""


def test_a_light_migration_passing_an_approved_run_that_waits_for_its_window_runs_by_itself() -> None:
    f = fakes(WEDNESDAY_NIGHT, INDEPENDENT)
    deployed(f, "gstg", {V1: INDEX, V3: BACKFILL}, WEDNESDAY_NIGHT - timedelta(days=2))
    stored_run(f, "gstg-9", [V1], RunStatus.APPROVED, at=WEDNESDAY_NIGHT)  # approved ahead of the weekend

    decision = evaluation.evaluate(f.ctx, "gstg", WEDNESDAY_NIGHT)

    assert decision is not None and decision.migrations == [V3]  # the backfill passes the index
    assert f.store.get_run("gstg-9").status is RunStatus.APPROVED  # a version above it did not start it
    backfill = f.store.get_run("gstg-1")
    assert backfill.migrations == [V3] and backfill.requested_by == "pdm-bot" and f.gitlab.created == 1
    f.gitlab.finish(backfill.pipeline_id or 0, "success")
    execution.poll(f.ctx, WEDNESDAY_NIGHT + timedelta(minutes=5), backfill.id)

    evaluation.evaluate(f.ctx, "gstg", SATURDAY)  # the weekend window opens: the approved run starts
    assert f.store.get_run("gstg-9").status is RunStatus.RUNNING and f.gitlab.created == 2


EVERY_2_HOURS = POLICY + (
    "durations: {overhead: 10m, index_and_constraint: 25m}\n"
    "guards: {deploy_schedule: '0 */2 * * *', deploy_duration: 60m}\n"
)


def test_an_approved_run_longer_than_the_gap_runs_in_parts_that_each_end_before_the_next_deploy() -> None:
    # deploys at every even hour hold gstg for 60 minutes: a gap fits 10 + 2 x 25 minutes
    f = fakes(SATURDAY, EVERY_2_HOURS)
    deployed(f, "gstg", {V1: INDEX, V2: INDEX, V3: INDEX}, SATURDAY - timedelta(days=2))
    stored_run(f, "gstg-9", [V1, V2, V3], RunStatus.APPROVED, at=SATURDAY - timedelta(days=1))

    evaluation.evaluate(f.ctx, "gstg", SATURDAY)  # 03:00: the gap until 04:00

    part = f.store.get_run("gstg-1")
    assert (part.migrations, part.part_of, part.approved_by) == ([V1, V2], "gstg-9", ["U1"])
    assert part.status is RunStatus.RUNNING and f.gitlab.created == 1
    assert f.gitlab.pipelines[0].variables["PDM_MIGRATION_VERSIONS"] == f"{V1} {V2}"
    rest = f.store.get_run("gstg-9")
    assert rest.status is RunStatus.APPROVED and rest.migrations == [V3]
    split = [e for e in f.store.audit_log(limit=20) if e.action == "approved_run_split"]
    assert split and split[0].reason.startswith(
        "2 of the 3 approved migrations of run gstg-9 run now as gstg-1"
    )
    started = [n for n in f.notifier.posted if isinstance(n, RunNote) and n.event is RunEvent.STARTED]
    assert started[0].reason and started[0].reason.startswith("part of approved run gstg-9")

    f.gitlab.finish(part.pipeline_id or 0, "success")
    execution.poll(f.ctx, SATURDAY + timedelta(minutes=55), part.id)
    evaluation.evaluate(f.ctx, "gstg", SATURDAY + timedelta(hours=2))  # 05:00, after the 04:00 deploy

    assert f.store.get_run("gstg-9").status is RunStatus.RUNNING and f.gitlab.created == 2
    assert f.gitlab.pipelines[1].variables["PDM_MIGRATION_VERSIONS"] == V3


def test_an_approved_run_waits_whole_when_no_part_of_it_may_start_now() -> None:
    f = fakes(SATURDAY + timedelta(minutes=50), EVERY_2_HOURS)  # 03:50: a 25-minute index ends after 04:00
    deployed(f, "gstg", {V1: INDEX, V2: INDEX}, SATURDAY - timedelta(days=2))
    stored_run(f, "gstg-9", [V1, V2], RunStatus.APPROVED, at=SATURDAY - timedelta(days=1))

    evaluation.evaluate(f.ctx, "gstg", SATURDAY + timedelta(minutes=50))

    assert f.store.get_run("gstg-9").migrations == [V1, V2] and f.gitlab.created == 0
    assert [r.id for r in f.store.active_runs()] == ["gstg-9"]
