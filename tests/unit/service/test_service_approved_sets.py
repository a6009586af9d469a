"""An approved run is an explicit set of migrations: it starts only when the decision lets every one of them
run now, whatever later light migrations may pass ahead of it (`ordering: independent`)."""

from __future__ import annotations

from datetime import timedelta

from scheduler.records import RunStatus
from scheduler.service import evaluation
from tests.support.service import V1, V3, deployed, fakes, stored_run
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
