"""The rules of a run's life, pure: who may approve, when a proposal is stale, which runs a new one
supersedes, when an automatic run is withheld, what `/pdm run` proposes. No I/O, no clock (`now` is a
parameter); the use cases in `scheduler/service/` read the store, call these and act.

The statuses and their allowed moves are `scheduler.records.RUN_TRANSITIONS` (`Run.moved_to`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from scheduler.natures import Nature
from scheduler.notes import RunEvent
from scheduler.records import COMMITTED_RUN_STATUSES, PendingRecord, Run, RunStatus

BOT_ACTOR = "pdm-bot"
DECLINES = frozenset({RunEvent.REJECTED, RunEvent.SNOOZED})


def conflicting_runs(run: Run, others: Iterable[Run]) -> list[Run]:
    """The committed runs among `others` (same environment, another id) that share a migration with `run`."""
    mine = set(run.migrations)
    return [
        o
        for o in others
        if o.id != run.id
        and o.environment == run.environment
        and o.status in COMMITTED_RUN_STATUSES
        and mine & set(o.migrations)
    ]


def conflict_reason(run: Run, blockers: Iterable[Run]) -> str:
    """Why `run` may not take its migrations: which ones belong to which committed run."""
    parts = []
    for blocker in blockers:
        shared = sorted(set(run.migrations) & set(blocker.migrations))
        verb = "belongs" if len(shared) == 1 else "belong"
        parts.append(f"{', '.join(shared)} {verb} to run {blocker.id} ({blocker.status})")
    return "; ".join(parts) + " — a migration is never part of two runs"


# Approval ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalRule:
    """How many different approvers a run needs, and the natures that make it two."""

    two_person: tuple[str, ...]

    @property
    def needed(self) -> int:
        """Approvers needed."""
        return 2 if self.two_person else 1


def approval_rule(
    natures: Iterable[Nature], two_person_natures: Iterable[Nature], override: bool
) -> ApprovalRule:
    """The two-person rule of a batch: the policy's `two_person_natures`, plus every heavy nature of a run
    requested with `--now` (an override of closed windows)."""
    present = set(natures)
    rule = set(two_person_natures) | ({n for n in present if n.is_heavy} if override else set())
    return ApprovalRule(tuple(sorted(str(n) for n in present & rule)))


def self_approval_refused(rule: ApprovalRule, run: Run, user: str) -> bool:
    """Under the two-person rule the requester may not approve their own run."""
    return bool(rule.two_person) and run.requested_by == user


def covered_runs(run: Run, active: Sequence[Run]) -> dict[str, str]:
    """Approved, not started runs of `run`'s environment that its approval supersedes (id → reason):
    those ending at or before its `up_to_version`."""
    reason = f"superseded by {run.id}, approved, which covers this batch and extends it"
    return {
        o.id: reason
        for o in active
        if o.environment == run.environment
        and o.id != run.id
        and o.status is RunStatus.APPROVED
        and int(o.up_to_version) <= int(run.up_to_version)
    }


def stale_reason(
    run: Run, now: datetime, pending: Sequence[str], holds: Iterable[str], active: Sequence[Run]
) -> str | None:
    """Why the proposal `run` may no longer be approved (None: it may): its window closed, the pending
    versions up to its end changed, one of them is held, or one belongs to a run it does not supersede."""
    if run.expires_at is not None and now >= run.expires_at:
        return f"the window it was proposed for closed at {run.expires_at.isoformat()}"
    if [v for v in pending if int(v) <= int(run.up_to_version)] != run.migrations:
        return "the pending migrations changed since it was proposed"
    held = sorted(set(run.migrations) & set(holds))
    if held:
        return f"{', '.join(held)} {'is' if len(held) == 1 else 'are'} held since it was proposed"
    covered = covered_runs(run, active)
    blockers = [b for b in conflicting_runs(run, active) if b.id not in covered]
    return conflict_reason(run, blockers) if blockers else None


# Proposals and automatic runs -------------------------------------------------------------------------


def requested_runs(active: Sequence[Run], env: str) -> list[Run]:
    """The proposals (requested runs) of `env`."""
    return [r for r in active if r.environment == env and r.status is RunStatus.REQUESTED]


def covers(proposed: Sequence[str], batch: Sequence[str]) -> bool:
    """Whether a proposal of `proposed` covers `batch`: every migration of it. A batch shrinks as the
    close of its window or an expected deploy comes nearer; the approval of the larger proposal runs it
    in the parts each moment lets run (`approved_part`), so the smaller batch is not asked again."""
    return set(batch) <= set(proposed)


def needs_proposal(
    migrations: Sequence[str], env: str, active: Sequence[Run], history: Sequence[Run], now: datetime
) -> bool:
    """False when a proposal in force covers the batch, a `/pdm run` proposal waits, or a batch that
    covers it was rejected or snoozed for a window that is still open."""
    for r in requested_runs(active, env):
        if r.requested_by != BOT_ACTOR:
            return False
        if covers(r.migrations, migrations) and (r.expires_at is None or r.expires_at > now):
            return False
    return not any(
        old.status is RunStatus.CANCELED
        and covers(old.migrations, migrations)
        and old.closed_as in DECLINES
        and old.expires_at is not None
        and old.expires_at > now
        for old in history
    )


def withheld_reason(
    env: str, migrations: Sequence[str], active: Sequence[Run], last: Run | None
) -> str | None:
    """Why no automatic run of `migrations` starts (None: it may): a `/pdm run` proposal waits (its
    approval runs it), or the last run of this batch failed (a human decides with `/pdm run`)."""
    asked = [r.id for r in requested_runs(active, env) if r.requested_by != BOT_ACTOR]
    if asked:
        return f"run {asked[0]} was requested; its approval runs it"
    if last is not None and last.status is RunStatus.FAILED and last.migrations[:1] == list(migrations[:1]):
        return f"run {last.id} of this batch failed; use /pdm run"
    return None


def superseded_by_start(run: Run, active: Sequence[Run], auto: bool) -> list[Run]:
    """The proposals of `run`'s environment that starting `run` supersedes: every pdm-bot or human
    proposal when it is automatic, else those sharing a migration with it."""
    return [
        old
        for old in requested_runs(active, run.environment)
        if old.id != run.id and (auto or set(old.migrations) & set(run.migrations))
    ]


def manual_wait_announced(active: Sequence[Run], env: str, version: str) -> bool:
    """True when a `/pdm run` of `env` covering `version` is already proposed or approved."""
    return any(
        r.environment == env and r.requested_by != BOT_ACTOR and int(r.up_to_version) >= int(version)
        for r in active
    )


# /pdm run ---------------------------------------------------------------------------------------------


def approved_part(approved: Sequence[str], decided: Sequence[str]) -> list[str]:
    """What an approved run executes now, given the batch a decision lets run (`decided`): its whole
    explicit set when the batch holds every one of them (comparing the highest versions is not enough
    once later light migrations may pass, `ordering: independent`), else the longest prefix of the batch
    that it approved (a part: a deploy is expected before the rest would end, a window closes, a soak
    is not over); empty when the batch starts with a migration it did not approve."""
    mine = set(approved)
    if mine <= set(decided):
        return list(approved)
    part: list[str] = []
    for version in decided:
        if version not in mine:
            break
        part.append(version)
    return part


def part_note(run: Run) -> str | None:
    """What the announcement of a run split off an approved one says about the rest (None: not a part)."""
    if run.part_of is None:
        return None
    return (
        f"part of approved run {run.part_of}: what fits before the next expected deploy or window edge; "
        "the rest stays approved and runs in the next moments that allow it"
    )


def auto_ahead(approved: Sequence[str], decided: Sequence[str], auto: Callable[[str], bool]) -> list[str]:
    """The migrations a batch starts with that an approved run does not hold, when every one of them runs
    by itself (`auto`): light migrations passing it (`ordering: independent`) run as an automatic run of
    their own, as they would without the approval; empty when the batch starts with one of its own."""
    mine = set(approved)
    ahead: list[str] = []
    for version in decided:
        if version in mine:
            break
        if not auto(version):
            return []
        ahead.append(version)
    return ahead


def not_runnable_now(run: Run, decided: Sequence[str]) -> str | None:
    """Why an approved `run` may not start whole with the batch `decided` now, or None."""
    batch = set(decided)
    missing = [v for v in run.migrations if v not in batch]
    if not missing:
        return None
    return f"approved run {run.id} waits: {', '.join(missing)} may not run now"


def busy_run(active: Sequence[Run], env: str) -> Run | None:
    """A run of `env` approved or in flight: `/pdm run` waits for it to end."""
    busy = [r for r in active if r.environment == env and r.status is not RunStatus.REQUESTED]
    return busy[0] if busy else None


def request_batch(
    pending: Sequence[PendingRecord], holds: Iterable[str], up_to: str | None
) -> list[PendingRecord]:
    """What `/pdm run [--up-to V]` proposes: the pending prefix before the first held version, up to `V`."""
    held = set(holds)
    batch: list[PendingRecord] = []
    for item in pending:
        if item.version in held or (up_to is not None and int(item.version) > int(up_to)):
            break
        batch.append(item)
    return batch
