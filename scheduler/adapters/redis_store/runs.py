"""Runs and their approvals: records, history, the active set, and the ownership rule of migrations."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from scheduler.adapters.redis_codec import dump, load, records, text
from scheduler.adapters.redis_keys import Keys
from scheduler.adapters.redis_store.base import StoreBase
from scheduler.adapters.redis_store.timings import queue_run_timing
from scheduler.errors import RunConflict, UnknownRun
from scheduler.lifecycle import conflict_reason, conflicting_runs
from scheduler.policy.learnt import RunTiming
from scheduler.records import Note, Run, RunStatus


def _by_request(runs: Iterable[Run]) -> list[Run]:
    return sorted(runs, key=lambda r: r.requested_at)


class RunQueries(StoreBase):
    """Reads of runs."""

    def get_run(self, run_id: str) -> Run:
        """The run `run_id`; raises UnknownRun."""
        run = load(Run.from_dict, self.r.get(Keys.run(run_id)))
        if run is None:
            raise UnknownRun(f"no run '{run_id}'")
        return run

    def runs(self, env: str, limit: int = 20) -> list[Run]:
        """Runs of `env`, most recently requested first."""
        return self._runs(self.r.zrevrange(Keys.env(env, "runs"), 0, limit - 1))

    def active_runs(self) -> list[Run]:
        """Runs of every environment not yet finished, by request time."""
        return _by_request(self._runs(self.r.smembers(Keys.named("runs:active"))))

    def last_successful_run(self, env: str) -> Run | None:
        """The last run of `env` that ended in success; raises UnknownRun when its record is gone."""
        run_id = self.r.get(Keys.env(env, "last_success"))
        return None if run_id is None else self.get_run(text(run_id))

    def _runs(self, ids: Iterable[Any]) -> list[Run]:
        keys = [Keys.run(text(i)) for i in ids]
        if not keys:
            return []
        return records(Run.from_dict, self.r.mget(keys))


class RunStore(RunQueries):
    """Reads and writes of runs and approvals."""

    def next_run_id(self, env: str) -> str:
        """A new, never reused run id such as `gprd-42`."""
        return f"{env}-{self.r.incr(Keys.named('runs:seq'))}"

    def create_run(self, run: Run) -> bool:
        """Store a new run; False (and nothing written) when the id exists."""
        with self.r.pipeline() as pipe:
            pipe.set(Keys.run(run.id), dump(run), nx=True)
            pipe.zadd(Keys.env(run.environment, "runs"), {run.id: run.requested_at.timestamp()}, nx=True)
            if not run.status.is_terminal:
                pipe.sadd(Keys.named("runs:active"), run.id)
            created, *_ = pipe.execute()
        return bool(created)

    def transition_run(
        self, run_id: str, status: RunStatus, at: datetime, *, timing: RunTiming | None = None, **changes: Any
    ) -> Run:
        """Move a run to `status` atomically; raises InvalidRunTransition, RunConflict or UnknownRun.

        A run becomes approved or triggered only while no other approved, triggered or running run holds
        one of its migrations (`RunConflict` otherwise), checked in the same transaction as the write.
        On success the run becomes its environment's last successful run, its migrations are recorded
        as succeeded there at `at` (the chain guard reads them) and are no longer pending: no reader
        sees the run ended while its migrations still wait. A success's `timing` is kept in the same write.
        """
        moved, _ = self._transition(run_id, status, at, changes, {}, timing)
        return moved

    def approve_run(
        self, run_id: str, at: datetime, approved_by: list[str], supersede: Mapping[str, str]
    ) -> tuple[Run, list[Run]]:
        """Approve a proposed run and, in the same transaction, cancel the approved runs it covers
        (`supersede`: id → reason); returns the run and the runs it superseded. A superseded run that
        has started meanwhile is a conflict (`RunConflict`), like any other holder of its migrations."""
        return self._transition(run_id, RunStatus.APPROVED, at, {"approved_by": approved_by}, supersede)

    def split_run(self, run_id: str, part_id: str, part: list[str], at: datetime) -> tuple[Run, Run]:
        """Split the approved run `run_id` atomically (`Run.split`): returns the new approved run of `part`
        and the run keeping the rest. Raises UnknownRun, InvalidRunTransition (no longer approved) and
        ValueError (not a strict part of it)."""
        key = Keys.run(run_id)

        def write(pipe: Any) -> tuple[Run, Run]:
            current = load(Run.from_dict, pipe.get(key))
            if current is None:
                raise UnknownRun(f"no run '{run_id}'")
            if pipe.exists(Keys.run(part_id)):
                raise ValueError(f"run {part_id} exists")
            piece, kept = current.split(part_id, part, at)
            pipe.multi()
            pipe.set(key, dump(kept))
            pipe.set(Keys.run(piece.id), dump(piece))
            pipe.zadd(Keys.env(piece.environment, "runs"), {piece.id: at.timestamp()})
            pipe.sadd(Keys.named("runs:active"), piece.id)
            return piece, kept

        result: tuple[Run, Run] = self.r.transaction(write, key, Keys.run(part_id), value_from_callable=True)
        return result

    def _transition(
        self,
        run_id: str,
        status: RunStatus,
        at: datetime,
        changes: Mapping[str, Any],
        supersede: Mapping[str, str],
        timing: RunTiming | None = None,
    ) -> tuple[Run, list[Run]]:
        key = Keys.run(run_id)

        def write(pipe: Any) -> tuple[Run, list[Run]]:
            current = load(Run.from_dict, pipe.get(key))
            if current is None:
                raise UnknownRun(f"no run '{run_id}'")
            moved = current.moved_to(status, at, **changes)
            replaced: list[Run] = []
            if status in (RunStatus.APPROVED, RunStatus.TRIGGERED):
                others = self._watched_active_runs(pipe, moved.environment)
                replaced = [
                    o.moved_to(RunStatus.CANCELED, at, failure_reason=supersede[o.id], superseded_by=run_id)
                    for o in others
                    if o.id in supersede and o.status is RunStatus.APPROVED
                ]
                gone = {r.id for r in replaced}
                blockers = conflicting_runs(moved, [o for o in others if o.id not in gone])
                if blockers:
                    raise RunConflict(conflict_reason(moved, blockers))
            pipe.multi()
            pipe.set(key, dump(moved))
            for old in replaced:
                pipe.set(Keys.run(old.id), dump(old))
                pipe.srem(Keys.named("runs:active"), old.id)
            if status.is_terminal:
                pipe.srem(Keys.named("runs:active"), run_id)
            if status is RunStatus.SUCCESS:
                env = moved.environment
                pipe.set(Keys.env(env, "last_success"), run_id)
                if moved.migrations:
                    pipe.hset(
                        Keys.env(env, "succeeded"), mapping=dict.fromkeys(moved.migrations, at.isoformat())
                    )
                    pipe.hdel(Keys.env(env, "pending"), *moved.migrations)
                if timing is not None:
                    queue_run_timing(pipe, env, timing)
            return moved, replaced

        result: tuple[Run, list[Run]] = self.r.transaction(write, key, value_from_callable=True)
        return result

    def _watched_active_runs(self, pipe: Any, env: str) -> list[Run]:
        """The active runs of `env`, read under WATCH (inside `transaction`): a change aborts the write."""
        pipe.watch(Keys.named("runs:active"))
        keys = [Keys.run(text(i)) for i in pipe.smembers(Keys.named("runs:active"))]
        if not keys:
            return []
        pipe.watch(*keys)
        return [r for r in records(Run.from_dict, pipe.mget(keys)) if r.environment == env]

    def add_approval(self, run_id: str, approval: Note) -> list[Note]:
        """Record `approval` (one per approver; repeats are ignored) and return all approvals of the run."""
        self.r.hsetnx(Keys.approvals(run_id), approval.actor, dump(approval))
        return self.approvals(run_id)

    def approvals(self, run_id: str) -> list[Note]:
        """Approvals of a run, oldest first."""
        raw = self.r.hgetall(Keys.approvals(run_id)).values()
        return sorted((Note.from_dict(json.loads(text(v))) for v in raw), key=lambda n: n.at)
