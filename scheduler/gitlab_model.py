"""GitLab's answers as values (the adapter is `scheduler/adapters/gitlab.py`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

POST_MIGRATE_DIR = "db/post_migrate"
PIPELINE_FINISHED = frozenset({"success", "failed", "canceled", "skipped"})
FULL_SHA = re.compile(r"[0-9a-f]{40}")
SHA = re.compile(r"[0-9a-f]{7,40}")  # a short or full commit SHA
FULL_SHA_IN_URL = re.compile(r"/commit/([0-9a-f]{40})\b")  # a GitLab commit URL


def is_post_migration(path: str) -> bool:
    """True for `db/post_migrate/*.rb` (not `db/migrate/`, not sub-folders)."""
    pure = PurePosixPath(path)
    return str(pure.parent) == POST_MIGRATE_DIR and pure.suffix == ".rb"


@dataclass(frozen=True)
class MigrationDiff:
    """Post-deploy migration files changed between two SHAs (a rename counts as deleted + added)."""

    from_sha: str
    to_sha: str
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()


def post_migration_diff(from_sha: str, to_sha: str, diffs: Iterable[Mapping[str, Any]]) -> MigrationDiff:
    """Sort the `diffs` of a compare answer into added, modified and deleted post-deploy migrations."""
    added: set[str] = set()
    modified: set[str] = set()
    deleted: set[str] = set()
    for diff in diffs:
        old, new = str(diff.get("old_path") or diff["new_path"]), str(diff["new_path"])
        if diff.get("deleted_file"):
            deleted.add(old)
        elif diff.get("new_file"):
            added.add(new)
        elif diff.get("renamed_file"):
            deleted.add(old)
            added.add(new)
        else:
            modified.add(new)
    return MigrationDiff(
        from_sha,
        to_sha,
        tuple(sorted(p for p in added if is_post_migration(p))),
        tuple(sorted(p for p in modified if is_post_migration(p))),
        tuple(sorted(p for p in deleted if is_post_migration(p))),
    )


@dataclass(frozen=True)
class GitLabDeployment:
    """One deployment of an environment, as GitLab lists it."""

    id: int
    environment: str
    sha: str
    ref: str
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Pipeline:
    """A pipeline and, for PDM pipelines found by `pdm_pipelines`, its variables."""

    id: int
    status: str
    web_url: str
    ref: str
    sha: str
    source: str
    created_at: datetime | None
    variables: dict[str, str] = field(default_factory=dict)

    @property
    def is_finished(self) -> bool:
        """True once the pipeline can no longer change status."""
        return self.status in PIPELINE_FINISHED


@dataclass(frozen=True)
class IncidentIssue:
    """An open incident issue."""

    iid: int
    title: str
    web_url: str
    labels: tuple[str, ...]
    created_at: datetime | None
