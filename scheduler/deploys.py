"""What a successful deploy changes: the package history, the pending set and its classification."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from scheduler.adapters.gitlab import GitLabAdapter
from scheduler.classify import classify_source
from scheduler.classify.model import Classification, Database
from scheduler.errors import PendingSourceError
from scheduler.pending import PendingDiscrepancy, PendingStrategy, detect_pending
from scheduler.records import Baseline, PendingRecord
from scheduler.worker_context import WorkerContext

FULL_SHA_IN_URL = re.compile(r"/commit/([0-9a-f]{40})\b")
FULL_SHA = re.compile(r"[0-9a-f]{40}")


def full_sha(gitlab: GitLabAdapter, sha: str, commit_url: str) -> str:
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
    """Classifies each file at the deployed SHA once."""

    def __init__(self, ctx: WorkerContext, sha: str) -> None:
        self._ctx, self._sha = ctx, sha
        self._seen: dict[str, Classification] = {}

    def __call__(self, path: str) -> Classification:
        if path not in self._seen:
            text = self._ctx.gitlab.file_text(path, self._sha)
            self._seen[path] = classify_source(
                text.encode("utf-8"), path, table_sizes=self._ctx.policy.table_sizes
            )
        return self._seen[path]

    def database(self, path: str) -> Database:
        return self(path).database


def refresh_pending(ctx: WorkerContext, env: str, sha: str, deployed_at: datetime) -> Refresh:
    """Recompute the pending set of `env` at the deployed `sha` and store it (unless sources disagree)."""
    state, spec = ctx.state, ctx.policy.environment(env)
    if state.baseline(env) is None and spec.baseline:
        state.set_baseline(env, Baseline(spec.baseline, "policy", deployed_at))
    before = {m.version: m for m in state.pending(env)}
    classify = _Classifier(ctx, sha)
    try:
        found = detect_pending(
            env,
            sha,
            strategy=PendingStrategy(spec.pending_strategy),
            state=state,
            gitlab=ctx.gitlab,
            dsns=ctx.dsns,
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
