"""Read-only `/pdm` answers: load Redis state, ask the pure planner, render with `bot.blocks`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot import blocks, metrics
from bot.views import (
    DeployInProgress,
    GuardLine,
    HistoryLine,
    LearntEstimate,
    PendingGroup,
    PlanView,
    ScheduledRun,
    StatusView,
)
from handlers.commands import Command
from scheduler.adapters.redis_store import RedisStore, Snapshot
from scheduler.classify.model import Database
from scheduler.envstate import load_env_state
from scheduler.errors import InputError
from scheduler.natures import ALL_NATURES
from scheduler.next_deploy import next_deploy
from scheduler.plan import decide, project
from scheduler.policy.guards import GuardResult
from scheduler.policy.learnt import RunTiming, learn_scales
from scheduler.policy.model import Policy
from scheduler.records import Run

PROJECTION_HORIZON = timedelta(days=14)
HISTORY_LIMIT = 10


def _guard_lines(results: list[GuardResult]) -> list[GuardLine]:
    return [GuardLine(r.name, r.ok, r.reason, r.configured) for r in results]


def _run_line(run: Run) -> str:
    """`gstg-12 (running, part of gstg-9)`: an active run of `/pdm status`."""
    part = f", part of {run.part_of}" if run.part_of else ""
    return f"{run.id} ({run.status}{part})"


def _learnt_estimates(timings: Sequence[RunTiming]) -> list[LearntEstimate]:
    """The kinds whose estimates `timings` scale, the best measured first."""
    learnt = learn_scales(timings).items()
    return [
        LearntEstimate(nature, size, scale.scale, scale.runs)
        for (nature, size), scale in sorted(learnt, key=lambda kind: -kind[1].runs)
    ]


class StateReader:
    """Answers status, diff, plan, history and explain; fast (Redis reads and pure code only)."""

    def __init__(
        self, state: RedisStore, policy: Policy, *, clock: Callable[[], datetime], file_url_template: str = ""
    ) -> None:
        self._state = state
        self._policy = policy
        self._clock = clock
        self._file_url_template = file_url_template

    def _environments(self, env: str | None) -> list[str]:
        return [env] if env else [e.name for e in self._policy.environments]

    def _snapshot(self) -> Snapshot:
        """Every environment's state in two Redis round trips (an environment's upstream included)."""
        return self._state.snapshot(self._environments(None))

    def answer(self, command: Command) -> list[blocks.Block]:
        """Blocks answering a read-only command."""
        match command.name:
            case "status":
                return self._each(command.environment, lambda env: blocks.status_blocks(self.status(env)))
            case "diff":
                return self._each(command.environment, self.diff)
            case "plan":
                return self._each(command.environment, lambda env: blocks.plan_blocks(self.plan(env)))
            case "history":
                return blocks.history_blocks(self.history(command.environment), command.environment)
            case "explain":
                return self.explain(command.version or "")
        raise InputError(f"`{command.name}` is not a read-only subcommand")

    def _each(self, env: str | None, render: Callable[[str], list[blocks.Block]]) -> list[blocks.Block]:
        result: list[blocks.Block] = []
        for name in self._environments(env):
            if result:
                result.append(blocks.divider())
            result.extend(render(name))
        return result

    def status(self, env: str) -> StatusView:
        """Total pending, split by nature and database, decision, next window, guards, rollback line."""
        snapshot = self._snapshot()
        active_runs = snapshot.active_runs()
        env_state = load_env_state(snapshot, self._policy, env, active_runs=active_runs)
        at = self._clock()
        decision = decide(env_state, self._policy, at)
        split = Counter(
            (p.classification.primary_nature, str(p.classification.database)) for p in env_state.pending
        )
        pause = snapshot.effective_pause(env) if env_state.paused else None
        active = [r for r in active_runs if r.environment == env]
        return StatusView(
            environment=env,
            pending_total=len(env_state.pending),
            groups=[PendingGroup(nature, db, count) for (nature, db), count in split.items()],
            next_window_at=decision.next_window_at,
            action=str(decision.action),
            reasons=list(decision.reasons),
            guards=_guard_lines(decision.guards),
            rollback_line=self.rollback_line(env, snapshot),
            paused=f"{pause.reason or 'no reason given'} (by <@{pause.actor}>)" if pause else None,
            holds=sorted(env_state.holds),
            active_runs=[_run_line(r) for r in reversed(active)],
            deploy_in_progress=self._deploy_in_progress(snapshot, env),
            expected_deploys=next_deploy(env_state, self._policy, at),
        )

    def _deploy_in_progress(self, snapshot: Snapshot, env: str) -> DeployInProgress | None:
        deploying = snapshot.deployment_in_progress(env)
        if deploying is None:
            return None
        return DeployInProgress(
            deployment_id=deploying.deployment_id,
            short_sha=deploying.short_sha,
            age=max(timedelta(0), self._clock() - deploying.deployed_at),
            expires_in=snapshot.deploy_marker_expires_in(env),
        )

    @staticmethod
    def rollback_line(env: str, reads: Snapshot) -> str:
        """What the last successful run did to rollbacks."""
        run = reads.last_successful_run(env)
        if run is None:
            baseline = reads.baseline(env)
            since = f" (pending counted from baseline `{baseline.sha[:8]}`)" if baseline else ""
            return f"no PDM run recorded on {env}{since}"
        when = blocks.slack_date(run.finished_at) if run.finished_at else "an unknown time"
        return (
            f"migrations up to `{run.up_to_version}` ran {when} (package `{run.target_sha[:8]}`): "
            f"packages older than `{run.target_sha[:8]}` can no longer be rolled back to"
        )

    def diff(self, env: str) -> list[blocks.Block]:
        """The pending migrations of `env`, classified."""
        items = [(p.classification, p.package_sha) for p in self._state.pending(env)]
        return blocks.pending_blocks(env, items, self._file_url_template)

    def plan(self, env: str) -> PlanView:
        """The decision now and the projected runs."""
        at = self._clock()
        snapshot = self._snapshot()
        env_state = load_env_state(snapshot, self._policy, env, active_runs=snapshot.active_runs())
        decision = decide(env_state, self._policy, at)
        runs = project(env_state, self._policy, at, PROJECTION_HORIZON)
        return PlanView(
            environment=env,
            at=at,
            action=str(decision.action),
            migrations=list(decision.migrations),
            up_to_version=decision.up_to_version,
            reasons=list(decision.reasons),
            next_window_at=decision.next_window_at,
            schedule=[ScheduledRun(r.at, str(r.action), list(r.migrations)) for r in runs],
            guards=_guard_lines(decision.guards),
            learnt=_learnt_estimates(env_state.run_timings),
            expected_deploys=next_deploy(env_state, self._policy, at),
        )

    def history(self, env: str | None) -> list[HistoryLine]:
        """The latest runs, newest first."""
        runs = [run for name in self._environments(env) for run in self._state.runs(name, HISTORY_LIMIT)]
        runs.sort(key=lambda r: r.requested_at, reverse=True)
        return [
            HistoryLine(
                run_id=r.id,
                environment=r.environment,
                status=str(r.status),
                up_to_version=r.up_to_version,
                migration_count=len(r.migrations),
                requested_at=r.requested_at,
                finished_at=r.finished_at,
                actor=r.approved_by[0] if r.approved_by else r.requested_by or None,
                pipeline_url=r.pipeline_url,
            )
            for r in runs[:HISTORY_LIMIT]
        ]

    def explain(self, version: str) -> list[blocks.Block]:
        """Why a pending migration got its nature."""
        for env in self._environments(None):
            for pending in self._state.pending(env):
                if pending.version == version:
                    return blocks.explain_blocks(pending.classification)
        raise InputError(f"no pending migration has version {version} (explain knows pending migrations)")

    def export_gauges(self) -> None:
        """Set the state gauges of `/metrics` (pending, oldest age, last success, decision, windows)."""
        at = self._clock()
        denied = any(w.is_open(at) for w in self._policy.deny_windows)
        windows_open = {
            nature: not denied and any(w.is_open(at) for w in self._policy.allow_windows(nature))
            for nature in ALL_NATURES
        }
        snapshot = self._snapshot()
        for env in self._environments(None):
            env_state = load_env_state(snapshot, self._policy, env, active_runs=snapshot.active_runs())
            split = Counter(
                (str(p.classification.primary_nature), str(p.classification.database))
                for p in env_state.pending
            )
            for nature in ALL_NATURES:
                for database in Database:
                    metrics.PENDING_MIGRATIONS.labels(env, str(nature), str(database)).set(
                        split.get((str(nature), str(database)), 0)
                    )
            deployed = [p.deployed_at for p in env_state.pending if p.deployed_at is not None]
            metrics.OLDEST_PENDING_AGE.labels(env).set(
                (at - min(deployed)).total_seconds() if deployed else 0
            )
            last = snapshot.last_successful_run(env)
            if last is not None and last.finished_at is not None:
                metrics.LAST_SUCCESSFUL_RUN.labels(env).set(last.finished_at.timestamp())
            metrics.record_decision(env, str(decide(env_state, self._policy, at).action))
            for nature, is_open in windows_open.items():
                metrics.WINDOW_OPEN.labels(env, str(nature)).set(1 if is_open else 0)
