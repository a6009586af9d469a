"""Build a small git repository of post-deploy migrations for `pdm-bot plan`.

Usage: python examples/make_sample_repo.py DEST

DEST gets a `baseline` tag (a Rails-like skeleton) and a `main` branch whose later commits add the
post-deploy migrations of examples/migrations/db/post_migrate/ (and one regular migration under
db/migrate/, which pdm-bot ignores). Commit dates are fixed, so plans are reproducible.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "migrations"
BASELINE_DATE = "2026-01-05T09:00:00+00:00"
MAIN_DATE = "2026-01-08T10:{minute:02d}:00+00:00"


def git(dest: Path, *args: str, date: str | None = None) -> None:
    """Run git in `dest` with a fixed identity (and commit date)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Sample Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Sample Author",
        "GIT_COMMITTER_EMAIL": "author@example.com",
    }
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", "-C", str(dest), *args], check=True, env=env, stdout=subprocess.DEVNULL)


def build(dest: Path) -> None:
    """Create the repository at `dest` (which must not exist or be empty)."""
    if dest.exists() and any(dest.iterdir()):
        raise SystemExit(f"make_sample_repo: {dest} exists and is not empty")
    (dest / "db" / "post_migrate").mkdir(parents=True)
    (dest / "db" / "migrate").mkdir(parents=True)
    (dest / "README.md").write_text("Sample application for pdm-bot.\n", encoding="utf-8")
    (dest / "db" / "post_migrate" / ".gitkeep").write_text("", encoding="utf-8")
    (dest / "db" / "migrate" / ".gitkeep").write_text("", encoding="utf-8")
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", ".")
    git(dest, "commit", "-q", "-m", "Baseline: last post-deploy migration run", date=BASELINE_DATE)
    git(dest, "tag", "baseline")
    regular = sorted((SOURCE / "db" / "migrate").glob("*.rb"))
    post = sorted((SOURCE / "db" / "post_migrate").glob("*.rb"))
    for minute, path in enumerate(regular + post):
        target = dest / path.relative_to(SOURCE)
        shutil.copyfile(path, target)
        git(dest, "add", str(target.relative_to(dest)))
        git(dest, "commit", "-q", "-m", f"Add {path.stem}", date=MAIN_DATE.format(minute=minute))


def main(argv: list[str]) -> None:
    """Entry point."""
    if len(argv) != 2:
        raise SystemExit("usage: python examples/make_sample_repo.py DEST")
    build(Path(argv[1]))
    print(f"sample repository ready: {argv[1]} (compare baseline..main)")


if __name__ == "__main__":
    main(sys.argv)
