"""An approved run is an explicit set of migrations: it starts only when the decision lets every one of them
run now, whatever later light migrations may pass ahead of it (`ordering: independent`)."""

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


def test_an_approved_run_waits_for_its_window_while_a_later_light_migration_may_run_now() -> None:
    f = fakes(WEDNESDAY_NIGHT, INDEPENDENT)
    deployed(f, "gstg", {V1: INDEX, V3: BACKFILL}, WEDNESDAY_NIGHT - timedelta(days=2))
    stored_run(f, "gstg-1", [V1], RunStatus.APPROVED, at=WEDNESDAY_NIGHT)  # approved ahead of the weekend

    decision = evaluation.evaluate(f.ctx, "gstg", WEDNESDAY_NIGHT)

    assert decision.migrations == [V3]  # the backfill passes the index: a version above the approved one
    assert f.store.get_run("gstg-1").status is RunStatus.APPROVED and f.gitlab.created == 0
    deferred = [e for e in f.store.audit_log(limit=20) if e.action == "execute_deferred"]
    assert deferred and f"{V1} may not run now" in deferred[0].reason

    evaluation.evaluate(f.ctx, "gstg", SATURDAY)  # the weekend window opens: the approved run starts
    assert f.store.get_run("gstg-1").status is RunStatus.RUNNING and f.gitlab.created == 1


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
