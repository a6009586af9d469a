"""Pending post-deploy migrations of an environment, from git history and/or the databases.

Two sources, chosen by the policy's `pending_strategy` but always cross-checked when both can answer:
- `git`: from the last successful run's target SHA (or the baseline) to the deployed SHA via
  compare: pending = (added files ∪ still-pending carried over) − deleted − versions already executed.
- `database`: every `db/post_migrate/*.rb` at the deployed SHA whose version is missing from the
  `schema_migrations` table of its database (main or ci, from the classification), read read-only.
When both answer and disagree, the result is a `PendingDiscrepancy` naming the versions, never a guess.

The first half of this module is pure (set arithmetic); the second half asks the sources (ports).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Protocol

from scheduler.classify.model import Database
from scheduler.errors import PendingSourceError
from scheduler.gitlab_model import MigrationDiff
from scheduler.ports import AppliedVersions, ControlReads, GitLab, PendingReads, RunReads

_VERSION = re.compile(r"(\d+)_")


class PendingStrategy(StrEnum):
    """Which source decides when only one of them can answer."""

    GIT = "git"
    DATABASE = "database"


def version_of(path: str) -> str | None:
    """The leading digits of a migration file name (`20260101000000_x.rb` → `20260101000000`)."""
    match = _VERSION.match(PurePosixPath(path).name)
    return match.group(1) if match else None


def _by_version(paths: Collection[str]) -> dict[str, str]:
    return {v: p for p in paths if (v := version_of(p)) is not None}


@dataclass(frozen=True)
class SourceView:
    """What one source says is pending (version → path)."""

    pending: dict[str, str]
    modified: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()


@dataclass(frozen=True)
class PendingSet:
    """The agreed pending migrations of an environment at its deployed SHA."""

    environment: str
    deployed_sha: str
    sources: tuple[PendingStrategy, ...]
    migrations: dict[str, str]
    modified: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()


@dataclass(frozen=True)
class PendingDiscrepancy:
    """Git history and the databases disagree: nothing must run until a human looks."""

    environment: str
    deployed_sha: str
    git_only: tuple[str, ...]
    database_only: tuple[str, ...]
    agreed: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """One loud line for Slack, the audit log and the CLI."""
        parts = []
        if self.git_only:
            parts.append(f"git says pending but the database says executed: {', '.join(self.git_only)}")
        if self.database_only:
            parts.append(
                f"the database says not executed but git does not list: {', '.join(self.database_only)}"
            )
        return (
            f"pending sources disagree for {self.environment} at {self.deployed_sha[:12]}: "
            + "; ".join(parts)
            + " (run outside the bot, or a stale starting SHA? fix the baseline or run /pdm baseline)"
        )


def pending_from_git(
    diff: MigrationDiff, carried: Mapping[str, str], executed: Collection[str]
) -> SourceView:
    """Pending by git: added or carried-over files, minus deleted ones and versions already executed."""
    deleted = set(diff.deleted)
    merged = {v: p for v, p in carried.items() if p not in deleted}
    merged.update(_by_version(diff.added))
    done = set(executed)
    return SourceView({v: p for v, p in sorted(merged.items()) if v not in done}, modified=diff.modified)


def database_candidates(
    files: Collection[str], applied: Mapping[Database, AbstractSet[str]]
) -> dict[str, str]:
    """Files whose version is missing from at least one configured database (the only ones to classify)."""
    return {v: p for v, p in sorted(_by_version(files).items()) if any(v not in s for s in applied.values())}


def pending_from_database(
    candidates: Mapping[str, str],
    database_of: Mapping[str, Database],
    applied: Mapping[Database, AbstractSet[str]],
) -> SourceView:
    """Pending by database: a candidate is pending when its own database lacks its version.

    A candidate whose database has no connection is kept as pending and listed as unverified.
    """
    pending: dict[str, str] = {}
    unverified: list[str] = []
    for version, path in candidates.items():
        versions = applied.get(database_of.get(version, Database.MAIN))
        if versions is None:
            unverified.append(version)
            pending[version] = path
        elif version not in versions:
            pending[version] = path
    return SourceView(pending, unverified=tuple(unverified))


def combine(
    environment: str,
    deployed_sha: str,
    strategy: PendingStrategy,
    git: SourceView | None,
    database: SourceView | None,
) -> PendingSet | PendingDiscrepancy:
    """The pending set both available sources agree on, or the discrepancy between them."""
    if git is not None and database is not None:
        unverified = set(database.unverified)
        git_only = sorted(set(git.pending) - set(database.pending) - unverified)
        database_only = sorted(set(database.pending) - set(git.pending) - unverified)
        if git_only or database_only:
            agreed = sorted(set(git.pending) & set(database.pending))
            return PendingDiscrepancy(
                environment, deployed_sha, tuple(git_only), tuple(database_only), tuple(agreed)
            )
        sources = (PendingStrategy.GIT, PendingStrategy.DATABASE)
        merged = dict(sorted({**database.pending, **git.pending}.items()))
        return PendingSet(environment, deployed_sha, sources, merged, git.modified, database.unverified)
    view, source = (git, PendingStrategy.GIT) if git is not None else (database, PendingStrategy.DATABASE)
    if view is None:
        raise PendingSourceError(
            f"cannot tell what is pending in {environment}: no successful run, no baseline "
            f"(set one with /pdm baseline {environment} SHA) and no database connection"
        )
    if strategy is PendingStrategy.DATABASE and source is PendingStrategy.GIT:
        raise PendingSourceError(
            f"pending strategy 'database' for {environment} needs PDM_DATABASE_MAIN_DSN "
            "(and PDM_DATABASE_CI_DSN)"
        )
    return PendingSet(
        environment, deployed_sha, (source,), dict(view.pending), view.modified, view.unverified
    )


class PendingSourceReads(PendingReads, RunReads, ControlReads, Protocol):
    """What the git source reads from the store."""


# I/O ---------------------------------------------------------------------------------------------------


def git_view(
    environment: str, deployed_sha: str, state: PendingSourceReads, gitlab: GitLab
) -> SourceView | None:
    """The git source, or None when there is neither a successful run nor a baseline to start from."""
    last = state.last_successful_run(environment)
    baseline = state.baseline(environment)
    start = last.target_sha if last is not None else baseline.sha if baseline is not None else None
    if start is None:
        return None
    diff = (
        MigrationDiff(start, deployed_sha) if start == deployed_sha else gitlab.compare(start, deployed_sha)
    )
    carried = {m.version: m.path for m in state.pending(environment)}
    return pending_from_git(diff, carried, state.successes(environment))


def database_view(
    deployed_sha: str,
    gitlab: GitLab,
    dsns: Mapping[Database, str],
    applied_versions: AppliedVersions,
    database_of: Callable[[str], Database],
) -> SourceView | None:
    """The database source, or None when no database is configured. `database_of(path)` classifies."""
    if not dsns:
        return None
    applied = {db: applied_versions(db, dsn) for db, dsn in dsns.items()}
    candidates = database_candidates(gitlab.post_migrations_at(deployed_sha), applied)
    return pending_from_database(candidates, {v: database_of(p) for v, p in candidates.items()}, applied)


def detect_pending(
    environment: str,
    deployed_sha: str,
    *,
    strategy: PendingStrategy,
    state: PendingSourceReads,
    gitlab: GitLab,
    dsns: Mapping[Database, str],
    applied_versions: AppliedVersions,
    database_of: Callable[[str], Database],
) -> PendingSet | PendingDiscrepancy:
    """Ask every available source what is pending in `environment` at `deployed_sha` and combine
    (`applied_versions` reads the `schema_migrations` of each of the `dsns`)."""
    git = git_view(environment, deployed_sha, state, gitlab)
    database = database_view(deployed_sha, gitlab, dsns, applied_versions, database_of)
    return combine(environment, deployed_sha, strategy, git, database)
