"""`pdm-bot classify --cache`'s stat index: an unchanged file is answered by a stat, any change is seen.

Files only enter the index once their mtime and ctime are `RACY_NS` old, so the trees these tests change
are written once for the module and aged (one wait of a few seconds); each test has its own folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.classify_cache import classifier_version, context_hash
from bot.classify_index import INDEX_FILE_NAME, RACY_NS, StatIndex
from bot.classify_walk import find_migrations
from bot.cli import cli

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
REPO = Path(__file__).resolve().parents[3]
COMMAND = [sys.executable, "-c", "from bot.cli import main; main()", "classify"]
USE = b"add_concurrent_index :ci_builds, :project_id"
DROP = b"remove_column :ci_builds, :legacy_column_xyz"  # the same length: the file keeps its size
SOURCE = b"""class AddIndex < Gitlab::Database::Migration[2.2]
  disable_ddl_transaction!

  def up
    %s
  end
end
"""
INDEX_FILE = "20260101000000_add_index.rb"
DOCS = "---\ntable_name: ci_builds\ngitlab_schema: gitlab_ci\ntable_size: %s\n"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["classify", *args])
    return result.exit_code, result.stdout, result.stderr


def unknown_to_the_index(tree: Path, cache: Path) -> list[str]:
    """The files of `tree` the index does not know unchanged: those a run would read."""
    files, folders = find_migrations([str(tree)])
    index = StatIndex(cache, started_ns=time.time_ns())
    version = classifier_version()
    contexts = [context_hash(version, index.documented(folder) or b"", {}) for folder in folders]
    return [files[n][0] for n, _ in index.find(files, contexts).unknown]


def rewrite_keeping_size_and_mtime(path: Path, data: bytes) -> None:
    """Replace the bytes of `path` in place and set its mtime back: only its ctime tells the change."""
    before = path.stat()
    assert len(data) == before.st_size
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )


@pytest.fixture(scope="module")
def aged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folders of files older than the racy window, one per test that changes files."""
    root = tmp_path_factory.mktemp("aged")
    corpus = sorted(CORPUS.glob("*.rb"))
    for name in ("unchanged", "renamed", "classifier"):
        (root / name).mkdir()
        for path in corpus[:30]:
            shutil.copy(path, root / name / path.name)
    (root / "in place").mkdir()
    (root / "in place" / INDEX_FILE).write_bytes(SOURCE % USE)
    checkout = root / "checkout"
    (checkout / "db" / "docs").mkdir(parents=True)
    (checkout / "db" / "post_migrate").mkdir()
    (checkout / "db" / "docs" / "ci_builds.yml").write_text(DOCS % "small")
    (checkout / "db" / "post_migrate" / INDEX_FILE).write_bytes(SOURCE % USE)
    time.sleep(RACY_NS / 1e9 + 0.2)
    return root


def test_an_unchanged_tree_is_answered_by_the_index_as_a_fresh_run(aged: Path, tmp_path: Path) -> None:
    tree, cache = aged / "unchanged", tmp_path / "cache"
    fresh = subprocess.run([*COMMAND, "--json", str(tree)], capture_output=True, timeout=120)
    filling = subprocess.run([*COMMAND, "--json", "--cache-dir", str(cache), str(tree)], capture_output=True)
    index = (cache / INDEX_FILE_NAME).stat()
    warm = subprocess.run([*COMMAND, "--json", "--cache-dir", str(cache), str(tree)], capture_output=True)
    assert fresh.returncode == filling.returncode == warm.returncode == 0
    assert fresh.stdout == filling.stdout == warm.stdout and warm.stderr == b""
    assert unknown_to_the_index(tree, cache) == []  # every file is answered by its stat
    assert (cache / INDEX_FILE_NAME).stat().st_mtime_ns == index.st_mtime_ns  # and nothing was written again
    for args in ([], ["--fail-on", "unknown"]):  # the table and --fail-on from the index too
        assert run(str(tree), *args) == run(str(tree), *args, "--cache-dir", str(cache))


def test_a_file_rewritten_with_same_size_and_mtime_is_classified_again(aged: Path, tmp_path: Path) -> None:
    migration, cache = aged / "in place" / INDEX_FILE, str(tmp_path / "cache")
    _, before, _ = run(str(migration), "--json", "--cache-dir", cache)
    assert unknown_to_the_index(migration.parent, Path(cache)) == []
    rewrite_keeping_size_and_mtime(migration, SOURCE % DROP)
    _, after, _ = run(str(migration), "--json", "--cache-dir", cache)
    assert json.loads(before)[0]["primary_nature"] == "index_and_constraint"
    assert json.loads(after)[0]["primary_nature"] == "ddl_cleanup"
    assert after == run(str(migration), "--json")[1]


def test_a_file_changed_within_the_racy_window_is_not_recorded_and_its_change_is_seen(tmp_path: Path) -> None:
    migration, cache = tmp_path / INDEX_FILE, str(tmp_path / "cache")
    migration.write_bytes(SOURCE % USE)
    _, before, _ = run(str(migration), "--json", "--cache-dir", cache)
    assert len(StatIndex(Path(cache), started_ns=time.time_ns())) == 0  # too recent to trust its stat
    rewrite_keeping_size_and_mtime(migration, SOURCE % DROP)  # within the same second
    _, after, _ = run(str(migration), "--json", "--cache-dir", cache)
    assert json.loads(before)[0]["primary_nature"] == "index_and_constraint"
    assert (
        after == run(str(migration), "--json")[1] and json.loads(after)[0]["primary_nature"] == "ddl_cleanup"
    )


def test_a_file_is_recorded_once_its_mtime_and_ctime_are_older_than_the_racy_window(
    tmp_path: Path,
) -> None:
    path = tmp_path / INDEX_FILE
    path.write_bytes(SOURCE % USE)
    stat = path.stat()
    newest = max(stat.st_mtime_ns, stat.st_ctime_ns)
    output = (b"k" * 16, "index_and_constraint", b"{}")
    for started_ns, recorded in ((newest + RACY_NS, False), (newest + RACY_NS + 1, True)):
        index = StatIndex(tmp_path / f"cache {recorded}", started_ns=started_ns)
        index.record(str(path), stat, b"c" * 16, output)
        index.save()
        later = StatIndex(tmp_path / f"cache {recorded}", started_ns=started_ns)
        found = later.find([(str(path), 0)], [b"c" * 16])
        assert (found.unknown == []) is recorded
        assert later.find([(str(path), 0)], [b"d" * 16]).unknown != []  # another context: not found


def test_a_renamed_file_is_classified_again_under_its_new_name(aged: Path, tmp_path: Path) -> None:
    tree, cache = aged / "renamed", str(tmp_path / "cache")
    run(str(tree), "--json", "--cache-dir", cache)
    first, second, third = sorted(tree.glob("*.rb"))[:3]
    first.rename(tree / ("20270101000000_" + first.name[15:]))  # a new version: another path and JSON
    second.rename(tree / "swap.tmp")  # two files swapped by renames: each path has the other's inode
    third.rename(second)
    (tree / "swap.tmp").rename(third)
    _, out, _ = run(str(tree), "--json", "--cache-dir", cache)
    assert out == run(str(tree), "--json")[1]
    printed = {p["path"]: p for p in json.loads(out)}
    assert printed[str(tree / ("20270101000000_" + first.name[15:]))]["version"] == "20270101000000"
    assert str(first) not in printed


def test_a_changed_table_size_in_db_docs_is_classified_again(aged: Path, tmp_path: Path) -> None:
    checkout, cache = aged / "checkout", str(tmp_path / "cache")
    migrations = str(checkout / "db" / "post_migrate")
    _, before, _ = run(migrations, "--json", "--cache-dir", cache)
    assert unknown_to_the_index(Path(migrations), Path(cache)) == []
    docs = checkout / "db" / "docs"
    index = StatIndex(Path(cache), started_ns=time.time_ns())
    assert index.documented(docs) is not None  # known by stat: not read again
    rewrite_keeping_size_and_mtime(checkout / "db" / "docs" / "ci_builds.yml", (DOCS % "large").encode())
    _, after, _ = run(migrations, "--json", "--cache-dir", cache)
    assert json.loads(before)[0]["table_sizes"] == {"ci_builds": "small"}
    assert json.loads(after)[0]["table_sizes"] == {"ci_builds": "large"}
    assert after == run(migrations, "--json")[1]


def test_a_changed_classifier_classifies_the_unchanged_files_again(aged: Path, tmp_path: Path) -> None:
    code = tmp_path / "code"
    for package in ("bot", "scheduler"):
        shutil.copytree(REPO / package, code / package, ignore=shutil.ignore_patterns("__pycache__"))
    tree, cache = str(aged / "classifier"), str(tmp_path / "cache")
    env = {**os.environ, "PYTHONPATH": str(code)}  # the copy, not the checkout, is imported

    def classify(*args: str) -> bytes:
        command = [*COMMAND, "--json", *args, tree]
        done = subprocess.run(command, capture_output=True, env=env, cwd=code, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    before = classify("--cache-dir", cache)
    assert unknown_to_the_index(Path(tree), Path(cache)) == []
    catalog = code / "scheduler" / "classify" / "catalog.py"
    old_note = "builds an index concurrently (scan, cost grows with size)"
    catalog.write_text(catalog.read_text().replace(old_note, "builds an index concurrently (changed rule)"))
    after = classify("--cache-dir", cache)
    assert old_note in before.decode() and old_note not in after.decode()
    assert "(changed rule)" in after.decode() and after == classify()


def test_a_damaged_index_is_ignored_and_replaced(aged: Path, tmp_path: Path) -> None:
    tree, cache = str(aged / "unchanged"), tmp_path / "cache"
    fresh = run(tree, "--json", "--cache-dir", str(cache))
    data = bytearray((cache / INDEX_FILE_NAME).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (cache / INDEX_FILE_NAME).write_bytes(bytes(data))
    assert len(StatIndex(cache, started_ns=time.time_ns())) == 0
    assert run(tree, "--json", "--cache-dir", str(cache)) == fresh
    assert unknown_to_the_index(Path(tree), cache) == []


def test_the_index_stays_under_its_bound_keeping_this_runs_files(tmp_path: Path) -> None:
    files = []
    for n in range(6):
        (tmp_path / f"{n}.rb").write_bytes(b"x")
        files.append((str(tmp_path / f"{n}.rb"), (tmp_path / f"{n}.rb").stat()))
    started_ns = time.time_ns() + 2 * RACY_NS  # a run late enough to record them
    index = StatIndex(tmp_path, started_ns=started_ns, max_bytes=1_000)
    for name, stat in files[:3]:
        index.record(name, stat, b"c" * 16, (b"k" * 16, "no_op", b"y" * 100))
    index.save()
    index = StatIndex(tmp_path, started_ns=started_ns, max_bytes=1_000)
    for name, stat in files[3:]:
        index.record(name, stat, b"c" * 16, (b"k" * 16, "no_op", b"z" * 100))
    index.save()
    assert (tmp_path / INDEX_FILE_NAME).stat().st_size <= 1_000
    kept = StatIndex(tmp_path, started_ns=started_ns)
    assert kept.find([(p, 0) for p, _ in files[3:]], [b"c" * 16]).unknown == []  # this run's files first
    assert len(kept) < 6
