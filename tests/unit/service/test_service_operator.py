"""Pause / resume and hold / unhold on fakes: who may, what is said, what then runs."""

from __future__ import annotations

from bot.blocks import answer_text
from scheduler.notes import PausedNote, RunRequestOutcome
from scheduler.records import Note
from scheduler.service import approvals, evaluation, operator
from scheduler.service.authorisation import NOT_AN_APPROVER
from tests.support.service import V1, V2, V3, deployed, fakes
from tests.support.worker import DEPLOYED, INDEX, NO_OP, SATURDAY


def test_a_paused_environment_runs_nothing_until_it_is_resumed() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: NO_OP}, SATURDAY)

    operator.pause(f.ctx, SATURDAY, "gstg", "U1", "incident 42")
    decision = evaluation.evaluate(f.ctx, "gstg", SATURDAY)

    assert f.store.pause("gstg") == Note("U1", SATURDAY, "incident 42")
    (said,) = f.notifier.notices(PausedNote)
    assert (said.environment, said.thread_sha, said.actor, said.reason) == (
        "gstg",
        DEPLOYED,
        "U1",
        "incident 42",
    )
    assert decision is not None and str(decision.action) == "blocked" and f.gitlab.created == 0

    operator.resume(f.ctx, SATURDAY, "gstg", "U2")

    assert f.store.pause("gstg") is None and f.gitlab.created == 1
    assert [e.action for e in f.store.audits if e.actor != "pdm-bot"] == ["paused", "resumed"]


def test_a_pause_of_every_environment_is_said_at_the_top_level() -> None:
    f = fakes(SATURDAY)

    operator.pause(f.ctx, SATURDAY, None, "U1", "")

    (said,) = f.notifier.notices(PausedNote)
    assert (said.environment, said.thread_sha) == ("", None)
    assert f.store.effective_pause("gprd") == Note("U1", SATURDAY, "")


def test_only_approvers_may_pause_hold_or_set_a_baseline() -> None:
    f = fakes(SATURDAY)

    operator.pause(f.ctx, SATURDAY, "gstg", "U9", "just because")
    operator.hold(f.ctx, SATURDAY, V1, "U9", "")
    operator.set_baseline(f.ctx, SATURDAY, "gstg", "a" * 40, "U9")

    assert f.store.pause("gstg") is None and f.store.holds() == {} and f.store.baseline("gstg") is None
    refusals = [(e.action, e.actor, e.reason, e.details["request"]) for e in f.store.audits]
    assert refusals == [
        ("refused", "U9", NOT_AN_APPROVER, "pause"),
        ("refused", "U9", NOT_AN_APPROVER, f"hold {V1}"),
        ("refused", "U9", NOT_AN_APPROVER, "baseline"),
    ]
    assert f.notifier.posted == []


def test_a_held_version_keeps_itself_and_every_later_one_out_of_a_run() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: INDEX, V2: INDEX, V3: INDEX}, SATURDAY)

    operator.hold(f.ctx, SATURDAY, V2, "U1", "needs a look")
    approvals.request_run(f.ctx, SATURDAY, "gstg", None, "U1")

    (proposal,) = f.notifier.proposals()
    assert proposal.migrations == [V1] and f.store.holds() == {V2: Note("U1", SATURDAY, "needs a look")}

    operator.unhold(f.ctx, SATURDAY, V2, "U1")

    assert f.store.holds() == {} and "unheld" in f.store.actions()


def test_a_held_head_leaves_nothing_for_pdm_run() -> None:
    f = fakes(SATURDAY)
    deployed(f, "gstg", {V1: INDEX}, SATURDAY)
    operator.hold(f.ctx, SATURDAY, V1, "U1", "")

    answer = approvals.request_run(f.ctx, SATURDAY, "gstg", None, "U1")

    assert answer.outcome is RunRequestOutcome.NOTHING and f.notifier.proposals() == []
    assert answer_text(answer) == "Nothing to run on gstg."
