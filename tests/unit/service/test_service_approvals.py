"""Approvals on fakes: the two-person rule, stale proposals, superseding (no server: `now` is passed)."""

from __future__ import annotations

from datetime import timedelta

from bot.blocks import answer_text
from scheduler.notes import (
    ApprovalRefusal,
    ApprovalRefusedNote,
    RunEvent,
    RunRequestOutcome,
    RunRequestReason,
    SecondApproverNote,
)
from scheduler.records import RunStatus
from scheduler.service import approvals, evaluation
from tests.support.service import V1, V2, deployed, fakes, stored_run
from tests.support.worker import INDEX, POLICY, SATURDAY

TWO_PERSON = POLICY.replace("approvers: {users: [U1, U2]}", "approvers: {users: [U1, U2, U3]}") + (
    "two_person_natures: [index_and_constraint]\n"
)
MONDAY = SATURDAY + timedelta(days=2)


def test_the_requester_of_a_two_person_run_may_not_approve_it_and_two_others_must() -> None:
    f = fakes(SATURDAY, TWO_PERSON)
    deployed(f, "gstg", {V1: INDEX}, SATURDAY)
    answer = approvals.request_run(f.ctx, SATURDAY, "gstg", None, "U1")
    (proposal,) = f.notifier.proposals()
    assert (proposal.request, proposal.reasons) == (RunRequestReason("U1"), [])
    assert (answer.outcome, answer.run_id, answer.count, answer.up_to) == (
        RunRequestOutcome.PROPOSED,
        proposal.run_id,
        1,
        V1,
    )
    assert (
        answer_text(answer)
        == f"Run {proposal.run_id} of 1 migrations (up to {V1}) proposed in the release thread."
    )

    approvals.approve(f.ctx, SATURDAY, proposal.run_id, "U1")
    approvals.approve(f.ctx, SATURDAY, proposal.run_id, "U2")

    (refusal,) = f.notifier.notices(ApprovalRefusedNote)
    assert (refusal.refusal, refusal.detail, refusal.actor) == (
        ApprovalRefusal.TWO_PERSON,
        "index_and_constraint",
        "U1",
    )
    (second,) = f.notifier.notices(SecondApproverNote)
    assert second.actor == "U2" and f.store.get_run(proposal.run_id).status is RunStatus.REQUESTED
    assert f.gitlab.created == 0

    approvals.approve(f.ctx, SATURDAY, proposal.run_id, "U3")

    run = f.store.get_run(proposal.run_id)
    assert run.status is RunStatus.RUNNING and run.approved_by == ["U2", "U3"] and f.gitlab.created == 1


def test_a_batch_outside_the_rule_needs_one_approval_even_from_its_requester() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: INDEX}, SATURDAY)
    approvals.request_run(f.ctx, SATURDAY, "gstg", None, "U1")
    (proposal,) = f.notifier.proposals()

    approvals.approve(f.ctx, SATURDAY, proposal.run_id, "U1")

    assert f.store.get_run(proposal.run_id).status is RunStatus.RUNNING and f.gitlab.created == 1


def test_an_approval_after_the_pending_set_changed_is_refused_and_the_batch_proposed_afresh() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V2: INDEX}, SATURDAY)
    evaluation.evaluate(f.ctx, "gstg", SATURDAY)
    (proposal,) = f.notifier.proposals()
    deployed(f, "gstg", {V1: INDEX, V2: INDEX}, SATURDAY)  # an earlier version turned up

    approvals.approve(f.ctx, SATURDAY, proposal.run_id, "U1")

    old = f.store.get_run(proposal.run_id)
    assert old.status is RunStatus.CANCELED and old.closed_as is RunEvent.EXPIRED
    (refusal,) = f.notifier.notices(ApprovalRefusedNote)
    assert (refusal.refusal, refusal.detail) == (
        ApprovalRefusal.STALE,
        "the pending migrations changed since it was proposed",
    )
    assert f.notifier.proposals()[-1].migrations == [V1, V2] and f.gitlab.created == 0


def test_an_approval_after_the_window_closed_is_refused_as_stale() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: INDEX}, SATURDAY)
    evaluation.evaluate(f.ctx, "gstg", SATURDAY)
    (proposal,) = f.notifier.proposals()
    assert proposal.window_closes_at == MONDAY.replace(hour=0)

    approvals.approve(f.ctx, MONDAY, proposal.run_id, "U1")

    (refusal,) = f.notifier.notices(ApprovalRefusedNote)
    assert refusal.refusal is ApprovalRefusal.STALE and "window it was proposed for closed" in refusal.detail
    assert f.store.get_run(proposal.run_id).status is RunStatus.CANCELED and f.gitlab.created == 0


def test_an_approval_supersedes_the_approved_run_it_covers_and_runs() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: INDEX, V2: INDEX}, SATURDAY)
    stored_run(f, "gstg-1", [V1], RunStatus.APPROVED, at=SATURDAY)
    stored_run(f, "gstg-2", [V1, V2], requested_by="U2", at=SATURDAY)

    approvals.approve(f.ctx, SATURDAY, "gstg-2", "U1")

    old, new = f.store.get_run("gstg-1"), f.store.get_run("gstg-2")
    assert (old.status, old.superseded_by) == (RunStatus.CANCELED, "gstg-2")
    assert new.status is RunStatus.RUNNING and f.gitlab.created == 1
    assert RunEvent.SUPERSEDED in f.notifier.events() and RunEvent.APPROVED in f.notifier.events()


def test_approving_a_superseded_proposal_points_at_the_run_that_replaced_it() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: INDEX}, SATURDAY)
    stored_run(f, "gstg-1", [V1], at=SATURDAY)
    f.store.transition_run("gstg-1", RunStatus.CANCELED, SATURDAY, superseded_by="gstg-2")

    approvals.approve(f.ctx, SATURDAY, "gstg-1", "U1")

    (refusal,) = f.notifier.notices(ApprovalRefusedNote)
    assert (refusal.refusal, refusal.detail) == (ApprovalRefusal.SUPERSEDED, "gstg-2")
    assert f.store.actions()[-1] == "refused"


def test_a_rejected_batch_is_not_proposed_again_in_its_window() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: INDEX}, SATURDAY)
    evaluation.evaluate(f.ctx, "gstg", SATURDAY)
    (proposal,) = f.notifier.proposals()

    approvals.decline(f.ctx, SATURDAY, proposal.run_id, "U1", RunEvent.REJECTED)
    evaluation.evaluate(f.ctx, "gstg", SATURDAY + timedelta(hours=1))

    assert f.store.get_run(proposal.run_id).closed_as is RunEvent.REJECTED
    assert len(f.notifier.proposals()) == 1
