"""Redis-backed state of pdm-bot. Every key is built by `Keys` (prefix `pdm:`); docs/state.md explains more.

| key                                   | type   | content                                              |
|---------------------------------------|--------|------------------------------------------------------|
| pdm:env:{env}:pending                 | hash   | version → PendingMigration JSON                      |
| pdm:env:{env}:deployments             | hash   | deployment_id → Deployment JSON                      |
| pdm:env:{env}:deployments:order       | zset   | deployment_id scored by deployed_at (epoch seconds)  |
| pdm:env:{env}:deploying               | string | Deployment JSON of the deploy in progress, expires   |
| pdm:env:{env}:runs                    | zset   | run id scored by requested_at (history)              |
| pdm:env:{env}:last_success            | string | id of the last successful run                        |
| pdm:env:{env}:succeeded               | hash   | version → finished_at ISO (chain guard input)        |
| pdm:env:{env}:pause                   | string | Note JSON (actor, at, reason)                        |
| pdm:env:{env}:lock                    | string | Lock JSON, expires (PX)                              |
| pdm:env:{env}:lock:fence              | string | fencing counter (INCR on each acquisition)           |
| pdm:run:{id}                          | string | Run JSON                                             |
| pdm:run:{id}:approvals                | hash   | approver → Note JSON                                 |
| pdm:runs:active                       | set    | ids of runs not yet finished                         |
| pdm:runs:seq                          | string | counter behind run ids                               |
| pdm:pause:global                      | string | Note JSON of the global pause                        |
| pdm:holds                             | hash   | version → Note JSON                                  |
| pdm:baselines                         | hash   | env → Baseline JSON                                  |
| pdm:once:{key}                        | string | idempotency claim, expires (EX)                      |
| pdm:slack:threads                     | hash   | "{env}:{sha}" → SlackMessage JSON (package thread)   |
| pdm:slack:proposals                   | hash   | run id → SlackMessage JSON (proposal message)        |
| pdm:audit                             | stream | at, actor, action, environment, reason, details JSON |
| pdm:mutex:evaluate:{env}              | string | one evaluation of an environment at a time           |
| pdm:metrics                           | hash   | counters behind /metrics (scheduler/telemetry.py)    |

`State.snapshot` reads what the planner and `/pdm` answers need about several environments in two
round trips (`Snapshot`), instead of one round trip per key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import redis

from scheduler.errors import RunConflict, UnknownRun
from scheduler.records import (
    AuditEntry,
    Baseline,
    Deployment,
    DeploymentStatus,
    Lock,
    Note,
    PendingMigration,
    Run,
    RunStatus,
    SlackMessage,
    conflict_reason,
    conflicting_runs,
)

T = TypeVar("T")
DEPLOY_MARKER_TTL = timedelta(hours=4)  # `PDM_DEPLOY_MARKER_TTL_SECONDS`
SECRET_MARKERS = ("token", "secret", "password", "authorization", "dsn")
REDACTED = "[redacted]"
DEPLOY_STARTS_KEPT = timedelta(days=400)  # the longest deploy-forecast lookback a policy can ask for

_RENEW = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
)
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class Keys:
    """The one place where Redis key names are built."""

    PREFIX = "pdm"

    @classmethod
    def env(cls, env: str, part: str) -> str:
        """A per-environment key such as `pdm:env:gprd:pending`."""
        return f"{cls.PREFIX}:env:{env}:{part}"

    @classmethod
    def run(cls, run_id: str) -> str:
        """The record of one run."""
        return f"{cls.PREFIX}:run:{run_id}"

    @classmethod
    def approvals(cls, run_id: str) -> str:
        """The approvals of one run."""
        return f"{cls.PREFIX}:run:{run_id}:approvals"

    @classmethod
    def once(cls, key: str) -> str:
        """An idempotency claim."""
        return f"{cls.PREFIX}:once:{key}"

    @classmethod
    def named(cls, name: str) -> str:
        """A global key such as `pdm:holds`, `pdm:runs:active` or `pdm:audit`."""
        return f"{cls.PREFIX}:{name}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _dump(record: Any) -> str:
    return json.dumps(record.to_dict(), sort_keys=True)


def _load(factory: Callable[[dict[str, Any]], T], raw: Any) -> T | None:
    return None if raw is None else factory(json.loads(_text(raw)))


def _pending_of(raw: Mapping[Any, Any]) -> list[PendingMigration]:
    items = [PendingMigration.from_dict(json.loads(_text(v))) for v in raw.values()]
    return sorted(items, key=lambda m: m.version)


def _holds_of(raw: Mapping[Any, Any]) -> dict[str, Note]:
    return {_text(k): Note.from_dict(json.loads(_text(v))) for k, v in raw.items()}


def _successes_of(raw: Mapping[Any, Any]) -> dict[str, datetime]:
    return {_text(k): datetime.fromisoformat(_text(v)) for k, v in raw.items()}


def _records_of(factory: Callable[[dict[str, Any]], T], values: Iterable[Any]) -> list[T]:
    return [factory(json.loads(_text(v))) for v in values if v is not None]


def _by_request(runs: Iterable[Run]) -> list[Run]:
    return sorted(runs, key=lambda r: r.requested_at)


def redact(details: Any) -> Any:
    """`details` with the values of secret-looking keys replaced, at any depth."""
    if isinstance(details, Mapping):
        return {
            k: REDACTED if any(m in str(k).lower() for m in SECRET_MARKERS) else redact(v)
            for k, v in details.items()
        }
    if isinstance(details, list | tuple):
        return [redact(v) for v in details]
    return details


class State:
    """Typed access to pdm-bot's Redis state; the connection is given by the caller."""

    def __init__(self, client: redis.Redis) -> None:
        # redis-py's annotations fit neither str/bytes replies nor transaction return values: keep it Any.
        self.r: Any = client
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str) -> State:
        """A State on a new connection to `url` (settings' `PDM_REDIS_URL`)."""
        return cls(redis.Redis.from_url(url))

    def ping(self) -> None:
        """Raise a `redis.RedisError` unless Redis answers: checked before a write whose fate must be
        known (a write whose answer times out may still be applied once a hung Redis resumes)."""
        self.r.ping()

    # Pending migrations -------------------------------------------------------------------------

    def set_pending(self, env: str, items: Iterable[PendingMigration]) -> None:
        """Replace the pending set of `env` atomically."""
        key = Keys.env(env, "pending")
        mapping = {m.version: _dump(m) for m in items}
        with self.r.pipeline() as pipe:
            pipe.delete(key)
            if mapping:
                pipe.hset(key, mapping=mapping)
            pipe.execute()

    def add_pending(self, env: str, items: Iterable[PendingMigration]) -> None:
        """Insert or update pending migrations of `env`."""
        mapping = {m.version: _dump(m) for m in items}
        if mapping:
            self.r.hset(Keys.env(env, "pending"), mapping=mapping)

    def remove_pending(self, env: str, versions: Iterable[str]) -> None:
        """Forget pending migrations of `env` (executed, or deleted from the repository)."""
        names = list(versions)
        if names:
            self.r.hdel(Keys.env(env, "pending"), *names)

    def pending(self, env: str) -> list[PendingMigration]:
        """Pending migrations of `env`, by version."""
        return _pending_of(self.r.hgetall(Keys.env(env, "pending")))

    # Deployments --------------------------------------------------------------------------------

    def record_deployment(
        self, env: str, deployment: Deployment, marker_ttl: timedelta = DEPLOY_MARKER_TTL
    ) -> Deployment | None:
        """Store a deployment status change unless it is stale, and keep the "deploy in progress"
        marker in step; returns the newer recorded status that made `deployment` stale (nothing is
        written then), else None.

        Per deployment the latest status by `status_changed_at` (status rank for equal times) wins, so a
        `running` delivered after the `success` of the same deployment changes nothing. A `running`
        status sets the marker with an expiry of `marker_ttl` (none when it is not positive); a
        finished status clears the marker of its own deployment or of an older one.
        """
        marker, records = Keys.env(env, "deploying"), Keys.env(env, "deployments")
        dep_id = str(deployment.deployment_id)

        def write(pipe: Any) -> Deployment | None:
            recorded = _load(Deployment.from_dict, pipe.hget(records, dep_id))
            if recorded is not None and deployment.is_stale_after(recorded):
                return recorded
            current = _load(Deployment.from_dict, pipe.get(marker))
            mine_or_older = current is not None and (
                current.deployment_id == deployment.deployment_id
                or current.deployed_at <= deployment.deployed_at
            )
            pipe.multi()
            pipe.hset(records, dep_id, _dump(deployment))
            pipe.zadd(Keys.env(env, "deployments:order"), {dep_id: deployment.deployed_at.timestamp()})
            if deployment.status is DeploymentStatus.RUNNING:
                if marker_ttl > timedelta(0) and (current is None or mine_or_older):
                    pipe.set(marker, _dump(deployment), px=_millis(marker_ttl))
            elif deployment.status.is_finished and mine_or_older:
                pipe.delete(marker)
            return None

        stale: Deployment | None = self.r.transaction(write, marker, records, value_from_callable=True)
        return stale

    def record_deploy_start(self, env: str, deployment_id: int, at: datetime) -> None:
        """Remember when a deploy of `env` started (the deploy forecast learns from these); starts older
        than `DEPLOY_STARTS_KEPT` are dropped."""
        key = Keys.env(env, "deploy_starts")
        with self.r.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {str(deployment_id): at.timestamp()}, nx=True)
            pipe.zremrangebyscore(key, "-inf", (at - DEPLOY_STARTS_KEPT).timestamp())
            pipe.execute()

    def deploy_starts(self, env: str) -> list[datetime]:
        """Recorded deploy starts of `env`, oldest first."""
        return _starts_of(self.r.zrange(Keys.env(env, "deploy_starts"), 0, -1, withscores=True))

    def deployments(self, env: str, limit: int = 20) -> list[Deployment]:
        """Deployment history of `env`, newest first."""
        ids = self.r.zrevrange(Keys.env(env, "deployments:order"), 0, limit - 1)
        if not ids:
            return []
        return _records_of(
            Deployment.from_dict, self.r.hmget(Keys.env(env, "deployments"), [_text(i) for i in ids])
        )

    def last_deployment(
        self, env: str, status: DeploymentStatus = DeploymentStatus.SUCCESS
    ) -> Deployment | None:
        """The newest deployment of `env` in `status`."""
        for deployment in self.deployments(env, limit=200):
            if deployment.status is status:
                return deployment
        return None

    def deployment_in_progress(self, env: str) -> Deployment | None:
        """The running deployment of `env`, if any."""
        return _load(Deployment.from_dict, self.r.get(Keys.env(env, "deploying")))

    def deploy_marker_expires_in(self, env: str) -> timedelta | None:
        """How long the "deploy in progress" marker of `env` has left (None: no marker)."""
        return _remaining(self.r.pttl(Keys.env(env, "deploying")))

    # Runs ---------------------------------------------------------------------------------------

    def next_run_id(self, env: str) -> str:
        """A new, never reused run id such as `gprd-42`."""
        return f"{env}-{self.r.incr(Keys.named('runs:seq'))}"

    def create_run(self, run: Run) -> bool:
        """Store a new run; False (and nothing written) when the id exists."""
        with self.r.pipeline() as pipe:
            pipe.set(Keys.run(run.id), _dump(run), nx=True)
            pipe.zadd(Keys.env(run.environment, "runs"), {run.id: run.requested_at.timestamp()}, nx=True)
            if not run.status.is_terminal:
                pipe.sadd(Keys.named("runs:active"), run.id)
            created, *_ = pipe.execute()
        return bool(created)

    def get_run(self, run_id: str) -> Run:
        """The run `run_id`; raises UnknownRun."""
        run = _load(Run.from_dict, self.r.get(Keys.run(run_id)))
        if run is None:
            raise UnknownRun(f"no run '{run_id}'")
        return run

    def transition_run(self, run_id: str, status: RunStatus, at: datetime, **changes: Any) -> Run:
        """Move a run to `status` atomically; raises InvalidRunTransition, RunConflict or UnknownRun.

        A run becomes approved or triggered only while no other approved, triggered or running run holds
        one of its migrations (`RunConflict` otherwise), checked in the same transaction as the write.
        On success the run becomes its environment's last successful run and its migrations are
        recorded as succeeded there at `at` (the chain guard reads them).
        """
        moved, _ = self._transition(run_id, status, at, changes, {})
        return moved

    def approve_run(
        self, run_id: str, at: datetime, approved_by: list[str], supersede: Mapping[str, str]
    ) -> tuple[Run, list[Run]]:
        """Approve a proposed run and, in the same transaction, cancel the approved runs it covers
        (`supersede`: id → reason); returns the run and the runs it superseded. A superseded run that
        has started meanwhile is a conflict (`RunConflict`), like any other holder of its migrations."""
        return self._transition(run_id, RunStatus.APPROVED, at, {"approved_by": approved_by}, supersede)

    def _transition(
        self,
        run_id: str,
        status: RunStatus,
        at: datetime,
        changes: Mapping[str, Any],
        supersede: Mapping[str, str],
    ) -> tuple[Run, list[Run]]:
        key = Keys.run(run_id)

        def write(pipe: Any) -> tuple[Run, list[Run]]:
            current = _load(Run.from_dict, pipe.get(key))
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
            pipe.set(key, _dump(moved))
            for old in replaced:
                pipe.set(Keys.run(old.id), _dump(old))
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
            return moved, replaced

        result: tuple[Run, list[Run]] = self.r.transaction(write, key, value_from_callable=True)
        return result

    def _watched_active_runs(self, pipe: Any, env: str) -> list[Run]:
        """The active runs of `env`, read under WATCH (inside `transaction`): a change aborts the write."""
        pipe.watch(Keys.named("runs:active"))
        keys = [Keys.run(_text(i)) for i in pipe.smembers(Keys.named("runs:active"))]
        if not keys:
            return []
        pipe.watch(*keys)
        return [r for r in _records_of(Run.from_dict, pipe.mget(keys)) if r.environment == env]

    def runs(self, env: str, limit: int = 20) -> list[Run]:
        """Runs of `env`, most recently requested first."""
        ids = self.r.zrevrange(Keys.env(env, "runs"), 0, limit - 1)
        return self._runs(ids)

    def active_runs(self) -> list[Run]:
        """Runs of every environment not yet finished (for reconciliation)."""
        return _by_request(self._runs(self.r.smembers(Keys.named("runs:active"))))

    def last_successful_run(self, env: str) -> Run | None:
        """The last run of `env` that ended in success."""
        run_id = self.r.get(Keys.env(env, "last_success"))
        return None if run_id is None else self.get_run(_text(run_id))

    def _runs(self, ids: Iterable[Any]) -> list[Run]:
        keys = [Keys.run(_text(i)) for i in ids]
        if not keys:
            return []
        return _records_of(Run.from_dict, self.r.mget(keys))

    # Approvals, pauses, holds, baselines, upstream successes ----------------------------------------

    def add_approval(self, run_id: str, approval: Note) -> list[Note]:
        """Record `approval` (one per approver; repeats are ignored) and return all approvals of the run."""
        self.r.hsetnx(Keys.approvals(run_id), approval.actor, _dump(approval))
        return self.approvals(run_id)

    def approvals(self, run_id: str) -> list[Note]:
        """Approvals of a run, oldest first."""
        raw = self.r.hgetall(Keys.approvals(run_id)).values()
        return sorted((Note.from_dict(json.loads(_text(v))) for v in raw), key=lambda n: n.at)

    def _pause_key(self, env: str | None) -> str:
        return Keys.named("pause:global") if env is None else Keys.env(env, "pause")

    def set_pause(self, env: str | None, note: Note) -> None:
        """Pause `env` (None: every environment)."""
        self.r.set(self._pause_key(env), _dump(note))

    def clear_pause(self, env: str | None) -> bool:
        """Resume `env` (None: the global pause); False if it was not paused."""
        return bool(self.r.delete(self._pause_key(env)))

    def pause(self, env: str | None) -> Note | None:
        """The pause set on exactly `env` (None: the global one)."""
        return _load(Note.from_dict, self.r.get(self._pause_key(env)))

    def effective_pause(self, env: str) -> Note | None:
        """The pause that stops `env`: its own, else the global one."""
        return self.pause(env) or self.pause(None)

    def set_hold(self, version: str, note: Note) -> None:
        """Hold a migration version in every environment."""
        self.r.hset(Keys.named("holds"), version, _dump(note))

    def clear_hold(self, version: str) -> bool:
        """Release a hold; False if there was none."""
        return bool(self.r.hdel(Keys.named("holds"), version))

    def holds(self) -> dict[str, Note]:
        """Held versions and why."""
        return _holds_of(self.r.hgetall(Keys.named("holds")))

    def set_baseline(self, env: str, baseline: Baseline) -> None:
        """Set where pending detection of `env` starts when no run succeeded yet."""
        self.r.hset(Keys.named("baselines"), env, _dump(baseline))

    def baseline(self, env: str) -> Baseline | None:
        """The baseline of `env`."""
        return _load(Baseline.from_dict, self.r.hget(Keys.named("baselines"), env))

    def record_successes(self, env: str, versions: Iterable[str], at: datetime) -> None:
        """Record versions that finished successfully in `env` at `at`."""
        mapping = dict.fromkeys(versions, at.isoformat())
        if mapping:
            self.r.hset(Keys.env(env, "succeeded"), mapping=mapping)

    def successes(self, env: str) -> dict[str, datetime]:
        """Versions that succeeded in `env` and when."""
        return _successes_of(self.r.hgetall(Keys.env(env, "succeeded")))

    # Environment lock -----------------------------------------------------------------------------

    def acquire_lock(self, env: str, owner: str, ttl: timedelta, at: datetime) -> Lock | None:
        """Take the lock of `env` for `ttl`; None if it is held. Every attempt draws a larger token."""
        token = int(self.r.incr(Keys.env(env, "lock:fence")))
        lock = Lock(environment=env, owner=owner, token=token, acquired_at=at)
        taken = self.r.set(Keys.env(env, "lock"), _dump(lock), nx=True, px=_millis(ttl))
        return lock if taken else None

    def renew_lock(self, lock: Lock, ttl: timedelta) -> bool:
        """Extend `lock` to `ttl` from now if it is still held by its owner."""
        return bool(self._renew(keys=[Keys.env(lock.environment, "lock")], args=[_dump(lock), _millis(ttl)]))

    def release_lock(self, lock: Lock) -> bool:
        """Release `lock` if it is still held by its owner."""
        return bool(self._release(keys=[Keys.env(lock.environment, "lock")], args=[_dump(lock)]))

    def lock_holder(self, env: str) -> Lock | None:
        """Who holds the lock of `env` now."""
        return _load(Lock.from_dict, self.r.get(Keys.env(env, "lock")))

    def holds_lock(self, lock: Lock) -> bool:
        """True while `lock` is the current lock of its environment (check before acting on its behalf)."""
        return self.lock_holder(lock.environment) == lock

    # Idempotency --------------------------------------------------------------------------------

    def claim(self, key: str, ttl: timedelta) -> bool:
        """True for the first caller of `key` within `ttl` (webhook dedup, cron slots, pipeline creation)."""
        return bool(self.r.set(Keys.once(key), "1", nx=True, ex=max(1, int(ttl.total_seconds()))))

    def unclaim(self, key: str) -> None:
        """Give a claim back, so the work can be tried again."""
        self.r.delete(Keys.once(key))

    def mark(self, key: str, ttl: timedelta) -> None:
        """Set the claim `key` for `ttl` from now, whoever held it (a marker such as "outcome unknown")."""
        self.r.set(Keys.once(key), "1", ex=max(1, int(ttl.total_seconds())))

    def marked(self, key: str) -> bool:
        """True while the claim or marker `key` is held."""
        return bool(self.r.exists(Keys.once(key)))

    @contextmanager
    def mutex(self, name: str, ttl: timedelta, wait: timedelta) -> Iterator[bool]:
        """Hold `pdm:mutex:{name}` (expires after `ttl`), waiting up to `wait`; yields whether it is held."""
        lock = self.r.lock(
            Keys.named(f"mutex:{name}"), timeout=ttl.total_seconds(), blocking_timeout=wait.total_seconds()
        )
        taken = bool(lock.acquire())
        try:
            yield taken
        finally:
            if taken:
                with suppress(redis.exceptions.LockError):
                    lock.release()

    # Snapshot -------------------------------------------------------------------------------------

    def snapshot(self, envs: Sequence[str], *, deployments: int = 50) -> Snapshot:
        """What the planner and the `/pdm` answers read about `envs` (and the global keys), in two
        round trips: the keys, then the run and deployment records they point to."""
        names = list(dict.fromkeys(envs))
        parts = ("pending", "deploying", "deploying_ttl", "lock", "pause", "succeeded", "last_success")
        with self.r.pipeline(transaction=False) as pipe:
            pipe.smembers(Keys.named("runs:active"))
            pipe.get(Keys.named("pause:global"))
            pipe.hgetall(Keys.named("holds"))
            pipe.hgetall(Keys.named("baselines"))
            for env in names:
                pipe.hgetall(Keys.env(env, "pending"))
                pipe.get(Keys.env(env, "deploying"))
                pipe.pttl(Keys.env(env, "deploying"))
                pipe.get(Keys.env(env, "lock"))
                pipe.get(Keys.env(env, "pause"))
                pipe.hgetall(Keys.env(env, "succeeded"))
                pipe.get(Keys.env(env, "last_success"))
                pipe.zrevrange(Keys.env(env, "deployments:order"), 0, deployments - 1)
                pipe.zrange(Keys.env(env, "deploy_starts"), 0, -1, withscores=True)
            active, global_pause, holds, baselines, *per_env = pipe.execute()
        keys: dict[str, dict[str, Any]] = {}
        order: dict[str, list[str]] = {}
        width = len(parts) + 2
        for i, env in enumerate(names):
            values = per_env[i * width : (i + 1) * width]
            keys[env] = dict(zip(parts, values[:-2], strict=True))
            keys[env]["deploy_starts"] = values[-1]
            order[env] = [_text(d) for d in values[-2]]
        active_ids = [_text(i) for i in active]
        last_ids = {env: _text(keys[env]["last_success"]) for env in names if keys[env]["last_success"]}
        run_ids = list(dict.fromkeys([*active_ids, *last_ids.values()]))
        with self.r.pipeline(transaction=False) as pipe:
            if run_ids:
                pipe.mget([Keys.run(i) for i in run_ids])
            for env in names:
                if order[env]:
                    pipe.hmget(Keys.env(env, "deployments"), order[env])
            replies = iter(pipe.execute())
        runs = {r.id: r for r in _records_of(Run.from_dict, next(replies))} if run_ids else {}
        history = {
            env: _records_of(Deployment.from_dict, next(replies)) if order[env] else [] for env in names
        }
        return Snapshot(
            envs=frozenset(names),
            keys=keys,
            global_pause=_load(Note.from_dict, global_pause),
            holds=_holds_of(holds),
            baselines={_text(k): v for k, v in baselines.items()},
            active=_by_request(runs[i] for i in active_ids if i in runs),
            runs=runs,
            last_success=last_ids,
            history=history,
            history_limit=deployments,
        )

    # Slack ----------------------------------------------------------------------------------------

    def set_thread(self, env: str, sha: str, message: SlackMessage) -> bool:
        """Remember the root message of a package's thread; False if one is already known."""
        return bool(self.r.hsetnx(Keys.named("slack:threads"), f"{env}:{sha}", _dump(message)))

    def thread(self, env: str, sha: str) -> SlackMessage | None:
        """The root message of the thread of package `sha` in `env`."""
        return _load(SlackMessage.from_dict, self.r.hget(Keys.named("slack:threads"), f"{env}:{sha}"))

    def set_proposal_message(self, run_id: str, message: SlackMessage) -> None:
        """Remember the proposal message of a run (to update it later)."""
        self.r.hset(Keys.named("slack:proposals"), run_id, _dump(message))

    def proposal_message(self, run_id: str) -> SlackMessage | None:
        """The proposal message of a run."""
        return _load(SlackMessage.from_dict, self.r.hget(Keys.named("slack:proposals"), run_id))

    # Audit log ------------------------------------------------------------------------------------

    def audit(self, entry: AuditEntry) -> str:
        """Append `entry` (secret-looking details redacted) and return its stream id."""
        fields = {
            "at": entry.at.isoformat(),
            "actor": entry.actor,
            "action": entry.action,
            "environment": entry.environment,
            "reason": entry.reason,
            "details": json.dumps(redact(entry.details), sort_keys=True, default=str),
        }
        return _text(self.r.xadd(Keys.named("audit"), fields))

    def audit_log(self, limit: int = 50, environment: str | None = None) -> list[AuditEntry]:
        """The newest `limit` entries, newest first, optionally of one environment."""
        entries: list[AuditEntry] = []
        upper: str = "+"
        while len(entries) < limit:
            page = self.r.xrevrange(Keys.named("audit"), max=upper, min="-", count=max(limit, 100))
            for stream_id, raw in page:
                data = {_text(k): _text(v) for k, v in raw.items()}
                if environment is None or data["environment"] == environment:
                    data["details"] = json.loads(data["details"])
                    entries.append(AuditEntry.from_dict({**data, "id": _text(stream_id)}))
            if len(page) < max(limit, 100):
                break
            upper = "(" + _text(page[-1][0])
        return entries[:limit]


def _starts_of(scored: list[tuple[Any, float]]) -> list[datetime]:
    return [datetime.fromtimestamp(score, UTC) for _, score in scored]


def _millis(ttl: timedelta) -> int:
    return max(1, int(ttl.total_seconds() * 1000))


def _remaining(pttl: int) -> timedelta | None:
    """A PTTL reply as a duration; None for a missing key (-2) or one without expiry (-1)."""
    return timedelta(milliseconds=pttl) if pttl >= 0 else None


class Snapshot:
    """The reads of `State.snapshot`, answered with `State`'s method names and types (no I/O)."""

    def __init__(
        self,
        *,
        envs: frozenset[str],
        keys: dict[str, dict[str, Any]],
        global_pause: Note | None,
        holds: dict[str, Note],
        baselines: dict[str, Any],
        active: list[Run],
        runs: dict[str, Run],
        last_success: dict[str, str],
        history: dict[str, list[Deployment]],
        history_limit: int,
    ) -> None:
        self._envs = envs
        self._keys = keys
        self._global_pause = global_pause
        self._holds = holds
        self._baselines = baselines
        self._active = active
        self._runs = runs
        self._last_success = last_success
        self._history = history
        self._history_limit = history_limit

    def _env(self, env: str) -> dict[str, Any]:
        if env not in self._envs:
            raise ValueError(f"the snapshot has no environment {env!r}")
        return self._keys[env]

    def _key(self, env: str, part: str) -> Any:
        return self._env(env)[part]

    def pending(self, env: str) -> list[PendingMigration]:
        """Pending migrations of `env`, by version."""
        return _pending_of(self._key(env, "pending"))

    def deployments(self, env: str, limit: int = 20) -> list[Deployment]:
        """Deployment history of `env`, newest first (at most the snapshot's `deployments`)."""
        if limit > self._history_limit:
            raise ValueError(f"the snapshot holds {self._history_limit} deployments, not {limit}")
        self._env(env)
        return self._history[env][:limit]

    def deployment_in_progress(self, env: str) -> Deployment | None:
        """The running deployment of `env`, if any."""
        return _load(Deployment.from_dict, self._key(env, "deploying"))

    def deploy_marker_expires_in(self, env: str) -> timedelta | None:
        """How long the "deploy in progress" marker of `env` had left when the snapshot was read."""
        return _remaining(self._key(env, "deploying_ttl"))

    def deploy_starts(self, env: str) -> list[datetime]:
        """Recorded deploy starts of `env`, oldest first."""
        return _starts_of(self._key(env, "deploy_starts"))

    def lock_holder(self, env: str) -> Lock | None:
        """The lock of `env`, if held."""
        return _load(Lock.from_dict, self._key(env, "lock"))

    def pause(self, env: str | None) -> Note | None:
        """The pause set on exactly `env` (None: the global one)."""
        return self._global_pause if env is None else _load(Note.from_dict, self._key(env, "pause"))

    def effective_pause(self, env: str) -> Note | None:
        """The pause that stops `env`: its own, else the global one."""
        return self.pause(env) or self.pause(None)

    def holds(self) -> dict[str, Note]:
        """Held versions and why."""
        return dict(self._holds)

    def successes(self, env: str) -> dict[str, datetime]:
        """Versions that succeeded in `env` and when."""
        return _successes_of(self._key(env, "succeeded"))

    def active_runs(self) -> list[Run]:
        """Runs of every environment not yet finished, by request time."""
        return list(self._active)

    def last_successful_run(self, env: str) -> Run | None:
        """The last run of `env` that ended in success; raises UnknownRun when its record is gone."""
        self._env(env)
        run_id = self._last_success.get(env)
        if run_id is None:
            return None
        if run_id not in self._runs:
            raise UnknownRun(f"no run '{run_id}'")
        return self._runs[run_id]

    def baseline(self, env: str) -> Baseline | None:
        """The baseline of `env`."""
        return _load(Baseline.from_dict, self._baselines.get(env))
