"""Read a local git checkout with the `git` command (the offline source of `pdm-bot plan`)."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path, PurePosixPath

from scheduler.errors import RepositoryError

POST_MIGRATE = "db/post_migrate"


def _git(repo: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False, timeout=60)
    except FileNotFoundError:
        raise RepositoryError("git is not installed") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RepositoryError(f"{repo}: git {args[0]}: {message[-1] if message else 'failed'}")
    return done.stdout


def resolve(repo: Path, rev: str) -> str:
    """The full commit SHA of `rev`, or RepositoryError naming it."""
    if not (repo / ".git").exists() and not repo.joinpath("HEAD").exists():
        raise RepositoryError(f"{repo}: not a git repository")
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
    except RepositoryError:
        raise RepositoryError(f"{repo}: unknown revision '{rev}'") from None


def added_post_migrations(repo: Path, from_sha: str, to_sha: str) -> list[str]:
    """Paths of `db/post_migrate/*.rb` files added between the two commits, sorted."""
    out = _git(
        repo, "diff", "--name-only", "--no-renames", "--diff-filter=A", from_sha, to_sha, "--", POST_MIGRATE
    )
    paths = [line for line in out.decode("utf-8", "replace").splitlines() if line]
    return sorted(p for p in paths if str(PurePosixPath(p).parent) == POST_MIGRATE and p.endswith(".rb"))


def file_at(repo: Path, sha: str, path: str) -> bytes:
    """The content of `path` at commit `sha`."""
    return _git(repo, "show", f"{sha}:{path}")


def files_under(repo: Path, sha: str, folder: str) -> dict[str, bytes]:
    """The content of each file directly in `folder` at `sha` (two git processes whatever the count);
    empty when the folder does not exist there."""
    try:
        listed = _git(repo, "ls-tree", "--name-only", f"{sha}:{folder}")
    except RepositoryError:
        return {}
    names = [n for n in listed.decode("utf-8", "replace").splitlines() if n]
    if not names:
        return {}
    request = "".join(f"{sha}:{folder}/{name}\n" for name in names).encode()
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "cat-file", "--batch"], input=request, capture_output=True, timeout=60
        ).stdout
    except FileNotFoundError:
        raise RepositoryError("git is not installed") from None
    files: dict[str, bytes] = {}
    pos = 0
    for name in names:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        pos = header_end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        files[f"{folder}/{name}"] = out[pos : pos + size]
        pos += size + 1
    return files


def commit_time(repo: Path, sha: str) -> datetime:
    """The committer time of `sha` (aware)."""
    return datetime.fromisoformat(_git(repo, "show", "-s", "--format=%cI", sha).decode().strip())
