"""The pure run life cycle (`scheduler/lifecycle.py`): plain values in, answers out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.lifecycle import (
    BOT_ACTOR,
    approval_rule,
    approved_part,
    auto_ahead,
    busy_run,
    covered_runs,
    needs_proposal,
    request_batch,
    self_approval_refused,
    stale_reason,
    superseded_by_start,
    withheld_reason,
)
from scheduler.natures import Nature
from scheduler.notes import RunEvent
from scheduler.records import Run, RunStatus
from tests.support.service import pending_record
from tests.support.worker import NO_OP

T = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
V1, V2, V3 = "20260101000000", "20260102000000", "20260103000000"


def run(run_id: str, migrations: list[str], status: RunStatus = RunStatus.REQUESTED, **extra: object) -> Run:
    fields: dict[str, object] = {
        "id": run_id,
        "environment": "gprd",
        "migrations": migrations,
        "up_to_version": migrations[-1],
        "target_sha": "a" * 40,
        "requested_by": BOT_ACTOR,
        "requested_at": T,
        "status": status,
        **extra,
    }
    return Run(**fields)  # type: ignore[arg-type]


def test_the_two_person_rule_covers_its_natures_and_every_heavy_one_of_an_override() -> None:
    natures = [Nature.INDEX_AND_CONSTRAINT, Nature.NO_OP, Nature.DDL_CLEANUP]

    plain = approval_rule(natures, [Nature.DDL_CLEANUP], override=False)
    forced = approval_rule(natures, [], override=True)

    assert (plain.two_person, plain.needed) == (("ddl_cleanup",), 2)
    assert forced.two_person == ("ddl_cleanup", "index_and_constraint")
    assert approval_rule([Nature.NO_OP], [Nature.DDL_CLEANUP], override=True).needed == 1
    mine = run("gprd-1", [V1], requested_by="U1")
    assert self_approval_refused(plain, mine, "U1") and not self_approval_refused(plain, mine, "U2")
    assert not self_approval_refused(approval_rule([Nature.NO_OP], [], override=False), mine, "U1")


def test_a_proposal_is_stale_when_its_window_closed_its_prefix_changed_or_a_version_is_held() -> None:
    proposal = run("gprd-1", [V1, V2], expires_at=T + timedelta(hours=1))

    assert stale_reason(proposal, T, [V1, V2, V3], [], []) is None
    assert "closed at" in (stale_reason(proposal, T + timedelta(hours=1), [V1, V2], [], []) or "")
    assert stale_reason(proposal, T, [V2], [], []) == "the pending migrations changed since it was proposed"
    assert stale_reason(proposal, T, [V1, V2], [V2], []) == f"{V2} is held since it was proposed"


def test_a_proposal_is_stale_when_a_run_it_does_not_cover_holds_one_of_its_migrations() -> None:
    proposal = run("gprd-2", [V1])
    longer = run("gprd-1", [V1, V2], RunStatus.APPROVED)
    shorter = run("gprd-3", [V1], RunStatus.APPROVED)

    assert "belongs to run gprd-1" in (stale_reason(proposal, T, [V1, V2], [], [longer]) or "")
    assert stale_reason(proposal, T, [V1, V2], [], [shorter]) is None
    assert covered_runs(proposal, [longer, shorter]) == {
        "gprd-3": "superseded by gprd-2, approved, which covers this batch and extends it"
    }


def test_a_batch_is_proposed_once_and_not_again_in_the_window_it_was_declined_for() -> None:
    waiting = run("gprd-1", [V1])
    declined = run(
        "gprd-2", [V1, V2], RunStatus.CANCELED, closed_as=RunEvent.SNOOZED, expires_at=T + timedelta(1)
    )
    expired = run(
        "gprd-3", [V1, V2], RunStatus.CANCELED, closed_as=RunEvent.EXPIRED, expires_at=T + timedelta(1)
    )

    assert not needs_proposal([V1], "gprd", [waiting], [], T)
    assert needs_proposal([V1, V2], "gprd", [waiting], [expired], T)
    assert not needs_proposal([V1, V2], "gprd", [waiting], [declined], T)
    assert needs_proposal([V1, V2], "gprd", [waiting], [declined], T + timedelta(days=2))
    assert not needs_proposal([V2], "gprd", [run("gprd-4", [V1], requested_by="U1")], [], T)


def test_a_batch_that_shrank_is_not_asked_again_while_a_proposal_or_decline_covering_it_holds() -> None:
    closes = T + timedelta(hours=3)
    waiting = run("gprd-1", [V1, V2, V3], expires_at=closes)
    rejected = run("gprd-2", [V1, V2, V3], RunStatus.CANCELED, closed_as=RunEvent.REJECTED, expires_at=closes)

    assert not needs_proposal([V1, V2], "gprd", [waiting], [], T)  # fewer fit before the window closes
    assert not needs_proposal([V1, V2], "gprd", [], [rejected], T)  # the release manager said no to all
    assert needs_proposal([V1, V2], "gprd", [waiting], [], closes)  # a new window: asked afresh
    assert needs_proposal([V1, V2], "gprd", [], [rejected], closes)
    assert needs_proposal([V1, V3], "gprd", [run("gprd-3", [V1, V2], expires_at=closes)], [], T)  # grew


def test_an_automatic_run_is_withheld_for_a_waiting_request_or_after_its_batch_failed() -> None:
    asked = run("gprd-1", [V1], requested_by="U1")
    failed = run("gprd-2", [V1, V2], RunStatus.FAILED)

    assert withheld_reason("gprd", [V1], [asked], None) == "run gprd-1 was requested; its approval runs it"
    assert withheld_reason("gprd", [V1], [], failed) == "run gprd-2 of this batch failed; use /pdm run"
    assert withheld_reason("gprd", [V2], [], failed) is None
    assert withheld_reason("gprd", [V1], [run("gprd-3", [V1])], None) is None


def test_a_starting_run_supersedes_every_proposal_when_automatic_else_those_it_overlaps() -> None:
    starting = run("gprd-9", [V1], RunStatus.APPROVED)
    overlapping, apart = run("gprd-1", [V1, V2]), run("gprd-2", [V3], requested_by="U1")

    assert superseded_by_start(starting, [overlapping, apart], auto=True) == [overlapping, apart]
    assert superseded_by_start(starting, [overlapping, apart], auto=False) == [overlapping]


def test_pdm_run_proposes_the_prefix_before_the_first_hold_up_to_its_version() -> None:
    items = [pending_record(v, NO_OP, T) for v in (V1, V2, V3)]

    assert [m.version for m in request_batch(items, [], None)] == [V1, V2, V3]
    assert [m.version for m in request_batch(items, [V2], None)] == [V1]
    assert [m.version for m in request_batch(items, [], V2)] == [V1, V2]
    assert busy_run([run("gprd-1", [V1]), run("gprd-2", [V2], RunStatus.RUNNING)], "gprd") is not None
    assert busy_run([run("gprd-1", [V1])], "gprd") is None


def test_an_approved_set_runs_whole_when_the_batch_holds_it_else_the_approved_head_of_the_batch() -> None:
    approved = ["v1", "v2", "v3"]
    assert approved_part(approved, ["v1", "v2", "v3", "v4"]) == approved  # later auto ones do not join
    assert approved_part(approved, ["v3", "v1", "v2"]) == approved  # its own order
    assert approved_part(approved, ["v1", "v2"]) == ["v1", "v2"]  # a deploy comes before v3 would end
    assert approved_part(approved, ["v1", "v9", "v2"]) == ["v1"]  # stops at one it did not approve
    assert approved_part(approved, ["v9", "v1"]) == [] and approved_part(approved, []) == []


def test_automatic_migrations_a_batch_starts_with_run_ahead_of_an_approved_set_that_waits() -> None:
    def auto(version: str) -> bool:
        return version.startswith("a")

    assert auto_ahead(["v1", "v2"], ["a1", "a2", "v1"], auto) == ["a1", "a2"]
    assert auto_ahead(["v1", "v2"], ["a1", "x1", "v1"], auto) == []  # x1 needs a human
    assert auto_ahead(["v1", "v2"], ["v1", "a1"], auto) == []  # the approved set comes first
