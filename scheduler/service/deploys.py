"""Deploys: a package deployed (history, pending set and its classification, the diff as the root of the
package's thread, an evaluation), a deploy running (the deploy-in-progress mark), a deploy that ended
without success."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler.classify import classify_documented, classify_source
from scheduler.classify.model import Classification, Database
from scheduler.envstate import planned_pending
from scheduler.errors import GitLabError, PendingSourceError
from scheduler.gitlab_model import FULL_SHA, FULL_SHA_IN_URL
from scheduler.lifecycle import BOT_ACTOR
from scheduler.notes import DiffNote, PendingProblemNote
from scheduler.pending import PendingDiscrepancy, PendingStrategy, detect_pending
from scheduler.policy.model import Ordering
from scheduler.policy.ordering import framework_order, passing_notes
from scheduler.ports import GitLab
from scheduler.records import Baseline, Deployment, DeploymentStatus, Note, PendingRecord
from scheduler.service.audit import audit
from scheduler.service.context import WorkerContext
from scheduler.service.evaluation import evaluate
from scheduler.service.table_docs import DocsAtSha

log = logging.getLogger(__name__)


def full_sha(gitlab: GitLab, sha: str, commit_url: str) -> str:
    """The 40-character SHA: `sha` itself, else from `commit_url`, else from the commits API."""
    if FULL_SHA.fullmatch(sha):
        return sha
    found = FULL_SHA_IN_URL.search(commit_url or "")
    return found.group(1) if found else gitlab.resolve_sha(sha)


@dataclass(frozen=True)
class Refresh:
    """The outcome of a pending refresh: what this package added, and any loud problem."""

    added: list[Classification] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    total: int = 0
    problem: str | None = None
    discrepancy: bool = False


class _Classifier:
    """Classifies each file at the deployed SHA once, with the `db/docs` of the tables it touches."""

    def __init__(self, ctx: WorkerContext, sha: str) -> None:
        self._ctx, self._sha = ctx, sha
        self._seen: dict[str, Classification] = {}
        self.docs = DocsAtSha(ctx.gitlab, sha)

    def __call__(self, path: str) -> Classification:
        if path not in self._seen:
            source = self._ctx.gitlab.file_text(path, self._sha).encode("utf-8")
            sizes = self._ctx.policy.table_sizes
            found = classify_source(source, path, table_sizes=sizes)
            docs = self.docs.for_tables(found.tables)  # the tables are known only once it is classified
            if docs.sizes or docs.schemas:
                found = classify_documented(source, path, docs, sizes)
            self._seen[path] = found
        return self._seen[path]

    def database(self, path: str) -> Database:
        return self(path).database


def refresh_pending(ctx: WorkerContext, now: datetime, env: str, sha: str, deployed_at: datetime) -> Refresh:
    """Recompute the pending set of `env` at the deployed `sha` and store it (unless sources disagree).

    Migrations are classified with GitLab's `db/docs` at `sha` (`service/table_docs.py`); tables whose
    docs could not be read are classified without them and audited (`table_docs_incomplete`).
    """
    classify = _Classifier(ctx, sha)
    refresh = _refresh(ctx, env, sha, deployed_at, classify)
    caveat = classify.docs.caveat()
    if caveat is not None:
        audit(ctx.state, now, "table_docs_incomplete", env, caveat, sha=sha, problem=classify.docs.problem)
    return refresh


def _refresh(ctx: WorkerContext, env: str, sha: str, deployed_at: datetime, classify: _Classifier) -> Refresh:
    state, spec = ctx.state, ctx.policy.environment(env)
    if state.baseline(env) is None and spec.baseline:
        state.set_baseline(env, Baseline(spec.baseline, "policy", deployed_at))
    before = {m.version: m for m in state.pending(env)}
    try:
        found = detect_pending(
            env,
            sha,
            strategy=PendingStrategy(spec.pending_strategy),
            state=state,
            gitlab=ctx.gitlab,
            dsns=ctx.dsns,
            applied_versions=ctx.applied_versions,
            database_of=classify.database,
        )
    except PendingSourceError as exc:
        return Refresh(total=len(before), problem=str(exc))
    if isinstance(found, PendingDiscrepancy):
        return Refresh(total=len(before), problem=found.describe(), discrepancy=True)
    modified = set(found.modified)
    items: list[PendingRecord] = []
    added: list[Classification] = []
    for version, path in found.migrations.items():
        old = before.get(version)
        if old is not None and old.path == path and path not in modified:
            items.append(old)
            continue
        classification = classify(path)
        items.append(
            PendingRecord(
                version,
                path,
                classification,
                old.package_sha if old else sha,
                old.deployed_at if old else deployed_at,
            )
        )
        if old is None:
            added.append(classification)
    state.set_pending(env, items)
    deleted = sorted(m.path for v, m in before.items() if v not in found.migrations)
    return Refresh(added, sorted(modified), deleted, len(items))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def record_deployment(ctx: WorkerContext, now: datetime, env: str, deployment: Deployment) -> bool:
    """Record a deployment status change; False (audited `deploy_event_stale`, nothing changed) when
    the same deployment already has a later status. The deploy-in-progress mark of a `running` status
    expires `timing.deploy_marker_ttl` after the status change."""
    marker_ttl = ctx.timing.deploy_marker_ttl - max(timedelta(0), now - deployment.deployed_at)
    newer = ctx.state.record_deployment(env, deployment, marker_ttl=marker_ttl)
    if newer is None:
        return True
    audit(
        ctx.state,
        now,
        "deploy_event_stale",
        env,
        f"deployment {deployment.deployment_id} {deployment.status} of {deployment.deployed_at.isoformat()} "
        f"is older than its recorded {newer.status} of {newer.deployed_at.isoformat()}; nothing changed",
        deployment_id=deployment.deployment_id,
        status=str(deployment.status),
        recorded_status=str(newer.status),
    )
    return False


def on_deploy(
    ctx: WorkerContext,
    now: datetime,
    env: str,
    deployment_id: int,
    sha: str,
    changed_at: str,
    commit_url: str,
) -> None:
    """A package was deployed: record it (and, for the deploy forecast, its start estimated as
    `deploy_duration` before its success when no `running` status told it), refresh pending, post the
    diff (thread root), evaluate."""
    deployed_at = _at(changed_at)
    sha = full_sha(ctx.gitlab, sha, commit_url)
    ctx.policy.environment(env)
    deployment = Deployment(int(deployment_id), sha, sha[:8], deployed_at, DeploymentStatus.SUCCESS)
    if not record_deployment(ctx, now, env, deployment):
        return
    started = deployed_at - ctx.policy.guards.deploy_duration  # until a `running` status tells better
    ctx.state.record_deploy_start(env, int(deployment_id), started, estimated=True)
    audit(ctx.state, now, "deployed", env, f"package {sha[:12]} deployed", deployment_id=deployment_id)
    result = refresh_pending(ctx, now, env, sha, deployed_at)
    if ctx.state.thread(env, sha) is None:
        ctx.notifier.post(_diff_note(ctx, env, sha, deployed_at, result))
    if result.problem is not None:
        _pending_problem(ctx, now, env, sha, result)
        return
    added = [c.version for c in result.added]
    reason = f"{result.total} pending, {len(result.added)} new"
    audit(ctx.state, now, "pending_refreshed", env, reason, added=added)
    evaluate(ctx, env, now)


def _diff_note(ctx: WorkerContext, env: str, sha: str, deployed_at: datetime, result: Refresh) -> DiffNote:
    return DiffNote(
        environment=env,
        thread_sha=sha,
        short_sha=sha[:8],
        deployed_at=deployed_at,
        added=result.added,
        deleted=result.deleted,
        modified=result.modified,
        pending_total=result.total,
        file_url_template=ctx.file_url_template,
        out_of_order=_out_of_order(ctx, env, result.added),
    )


def _pending_problem(ctx: WorkerContext, now: datetime, env: str, sha: str, result: Refresh) -> None:
    """Pending sources failed or disagree: audit, pause on a discrepancy, say so in the thread."""
    problem = result.problem or ""
    audit(ctx.state, now, "pending_unknown", env, problem)
    if result.discrepancy:
        ctx.state.set_pause(env, Note(BOT_ACTOR, now, problem))
    ctx.notifier.post(PendingProblemNote(env, sha, problem, paused=result.discrepancy))


def _out_of_order(ctx: WorkerContext, env: str, added: list[Classification]) -> list[str]:
    """With `ordering: independent`, which added migrations may pass earlier pending ones, and why."""
    if ctx.policy.ordering is not Ordering.INDEPENDENT or not added:
        return []
    pending = planned_pending(ctx.state, env)
    added_versions = [c.version for c in added if c.version is not None]
    return passing_notes(framework_order(pending), list(ctx.state.holds()), added_versions)


def deploy_started(
    ctx: WorkerContext, now: datetime, env: str, deployment_id: int, sha: str, at: str, commit_url: str = ""
) -> None:
    """Mark a deploy of `env` in progress, under its full SHA when GitLab can tell it, and record its
    start for the deploy forecast — also when the event comes after a later status of the deployment
    (delivered late, it still tells when the deploy started).

    The commits API is asked only when neither `sha` nor `commit_url` holds the full SHA; if that call
    fails the mark is recorded under the given (short) SHA: the mark matters more than the SHA.
    """
    try:
        sha = full_sha(ctx.gitlab, sha, commit_url)
    except GitLabError as exc:
        log.warning("deploy %s: keeping short SHA %s (%s)", deployment_id, sha, exc)
    deployment = Deployment(int(deployment_id), sha, sha[:8], _at(at), DeploymentStatus.RUNNING)
    ctx.state.record_deploy_start(env, int(deployment_id), deployment.deployed_at)
    if not record_deployment(ctx, now, env, deployment):
        return
    reason = f"deployment {deployment_id} running"
    if now - deployment.deployed_at >= ctx.timing.deploy_marker_ttl:
        reason += f"; older than {ctx.timing.deploy_marker_ttl}, so no deploy-in-progress mark"
    audit(ctx.state, now, "deploy_started", env, reason, sha=sha)


def deploy_ended(
    ctx: WorkerContext, now: datetime, env: str, deployment_id: int, status: str, at: str
) -> None:
    """A deploy ended without success: clear the in-progress mark and evaluate."""
    known = {d.deployment_id: d for d in ctx.state.deployments(env, limit=200)}
    sha = known[int(deployment_id)].sha if int(deployment_id) in known else ""
    deployment = Deployment(int(deployment_id), sha, sha[:8], _at(at), DeploymentStatus(status))
    if not record_deployment(ctx, now, env, deployment):
        return
    audit(ctx.state, now, "deploy_ended", env, f"deployment {deployment_id} {status}")
    evaluate(ctx, env, now)
