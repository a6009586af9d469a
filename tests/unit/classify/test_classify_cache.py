"""`pdm-bot classify --cache`: a fresh run's output, invalidation, damaged files, bounds, concurrency."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.classify_cache import (
    FILE_NAME,
    MAGIC,
    Cache,
    classifier_version,
    context_hash,
    docs_digest,
    file_key,
)
from bot.cli import cli

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
INDEX = b"""class AddIndex < Gitlab::Database::Migration[2.2]
  disable_ddl_transaction!

  def up
    add_concurrent_index :ci_builds, :project_id
  end
end
"""
DROP = INDEX.replace(b"add_concurrent_index :ci_builds, :project_id", b"remove_column :ci_builds, :legacy")
HEADER = struct.Struct("<8sI")
ENTRY = struct.Struct("<16sQII")


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner(env=env).invoke(cli, ["classify", *args])
    return result.exit_code, result.stdout, result.stderr


def entries(cache: Path) -> list[tuple[bytes, int, int, int]]:
    """(key, offset, length, crc) of every entry of the cache file, checked against its header."""
    data = (cache / FILE_NAME).read_bytes()
    magic, count = HEADER.unpack_from(data)
    assert magic == MAGIC
    rows = [ENTRY.unpack_from(data, HEADER.size + n * ENTRY.size) for n in range(count)]
    assert all(zlib.crc32(data[o : o + n]) == crc for _, o, n, crc in rows)
    return rows


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    folder = tmp_path / "post_migrate"
    shutil.copytree(CORPUS, folder, ignore=shutil.ignore_patterns("*.yaml"))
    return folder


def test_a_warm_run_prints_exactly_what_a_fresh_run_prints(tree: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    fresh = run(str(tree), "--json")
    filling = run(str(tree), "--json", "--cache-dir", cache)
    warm = run(str(tree), "--json", "--cache-dir", cache)
    assert fresh == filling == warm
    assert len(entries(Path(cache))) == len(list(tree.glob("*.rb")))
    for args in ([], ["--fail-on", "unknown"]):  # the table and --fail-on from cached results too
        assert run(str(tree), *args) == run(str(tree), *args, "--cache-dir", cache)


def test_a_warm_run_answers_from_the_cache_without_loading_the_parser(tree: Path, tmp_path: Path) -> None:
    code = (
        "import sys\nfrom bot.cli import main\n"
        "sys.argv = ['pdm-bot', 'classify', '--json', '--cache-dir', sys.argv[1], sys.argv[2]]\n"
        "try:\n    main()\nfinally:\n    print('tree_sitter' in sys.modules, file=sys.stderr)\n"
    )
    command = [sys.executable, "-c", code, str(tmp_path / "cache"), str(tree)]
    first = subprocess.run(command, capture_output=True, text=True, timeout=120)
    second = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert (first.returncode, first.stderr.strip()) == (0, "True")
    assert (second.returncode, second.stderr.strip(), second.stdout) == (0, "False", first.stdout)


def test_a_changed_file_is_classified_again(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    migration = tmp_path / "m" / "20260101000000_change_me.rb"
    migration.write_bytes(INDEX)
    cache = str(tmp_path / "cache")
    _, before, _ = run(str(migration), "--json", "--cache-dir", cache)
    migration.write_bytes(DROP)
    _, after, _ = run(str(migration), "--json", "--cache-dir", cache)
    assert json.loads(before)[0]["primary_nature"] == "index_and_constraint"
    assert json.loads(after)[0]["primary_nature"] == "ddl_cleanup"
    assert after == run(str(migration), "--json")[1]


def test_the_same_file_elsewhere_hits_and_prints_its_own_path(tree: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    run(str(tree), "--json", "--cache-dir", cache)
    moved = tmp_path / "another checkout" / "db" / 'post "migrate"'
    shutil.copytree(tree, moved)
    size = (Path(cache) / FILE_NAME).stat().st_size
    assert run(str(moved), "--json", "--cache-dir", cache) == run(str(moved), "--json")
    assert (Path(cache) / FILE_NAME).stat().st_size == size  # all hits: nothing written


def test_other_table_sizes_are_not_answered_from_the_cache(tmp_path: Path) -> None:
    migration = tmp_path / "20260101000000_add_index.rb"
    migration.write_bytes(INDEX)
    small, large = tmp_path / "small.yml", tmp_path / "large.yml"
    small.write_text("ci_builds: small\n")
    large.write_text("ci_builds: large\n")
    cache = str(tmp_path / "cache")
    run(str(migration), "--json", "--cache-dir", cache, "--table-sizes", str(small))
    _, out, _ = run(str(migration), "--json", "--cache-dir", cache, "--table-sizes", str(large))
    assert json.loads(out)[0]["table_sizes"] == {"ci_builds": "large"}


def test_the_key_covers_classifier_sizes_schemas_file_name_and_bytes() -> None:
    version = classifier_version()

    def key(
        version: bytes = version,
        sizes: dict[str, str] | None = None,
        schemas: dict[str, str] | None = None,
        given: dict[str, str] | None = None,
        path: str = "a/1_x.rb",
        source: bytes = INDEX,
    ) -> bytes:
        documented = docs_digest(sizes or {"t": "small"}, schemas or {"t": "gitlab_ci"})
        return file_key(context_hash(version, documented, given or {}), path, source)

    base = key()
    variants = [
        key(version=version + b"!"),
        key(sizes={"t": "large"}),
        key(schemas={"t": "gitlab_main"}),
        key(given={"t": "small"}),  # --table-sizes, even when it says what db/docs say
        key(path="a/2_x.rb"),
        key(source=DROP),
    ]
    assert key(path="elsewhere/1_x.rb") == base and base not in variants
    assert len(set(variants)) == len(variants)


def test_the_classifier_version_covers_every_module_the_classifier_loads() -> None:
    code = (
        "import sys\nimport scheduler.classify.classifier\n"
        "import json\nprint(json.dumps([m for m in sys.modules if m.split('.')[0] in ('bot', 'scheduler')]))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    hashed = ("scheduler", "scheduler.classify", "scheduler.natures")  # the package, its modules, natures
    modules = json.loads(loaded)
    assert modules and all(m in hashed or m.startswith("scheduler.classify.") for m in modules), modules


def test_a_damaged_entry_is_a_miss_and_is_rewritten(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fresh = run(str(tree), "--json", "--cache-dir", str(cache))
    key, offset, length, _ = entries(cache)[0]
    data = bytearray((cache / FILE_NAME).read_bytes())
    data[offset + length // 2] ^= 0xFF
    (cache / FILE_NAME).write_bytes(bytes(data))
    assert Cache(cache).get(key) is None
    assert run(str(tree), "--json", "--cache-dir", str(cache)) == fresh
    assert Cache(cache).get(key) is not None and len(entries(cache)) == len(list(tree.glob("*.rb")))


@pytest.mark.parametrize("damage", ["not ours", "truncated index", "empty"])
def test_a_cache_file_that_is_not_ours_is_ignored_and_replaced(
    tree: Path, tmp_path: Path, damage: str
) -> None:
    cache = tmp_path / "cache"
    fresh = run(str(tree), "--json", "--cache-dir", str(cache))
    data = (cache / FILE_NAME).read_bytes()
    broken = {"not ours": b"#!/bin/sh\n" + data[10:], "truncated index": data[:100], "empty": b""}[damage]
    (cache / FILE_NAME).write_bytes(broken)
    assert len(Cache(cache)) == 0
    assert run(str(tree), "--json", "--cache-dir", str(cache)) == fresh
    assert len(entries(cache)) == len(list(tree.glob("*.rb")))


def test_the_cache_file_stays_under_its_bound_keeping_this_runs_entries(tmp_path: Path) -> None:
    store = Cache(tmp_path, max_bytes=1_000)
    old = {bytes([n]) * 16: b"x" * 100 for n in range(5)}
    store.save(list(old), old)
    assert len(Cache(tmp_path)) == 5
    store = Cache(tmp_path, max_bytes=1_000)
    new = {bytes([n]) * 16: b"y" * 100 for n in range(10, 15)}
    store.save([*new, bytes([0]) * 16], new)
    kept = Cache(tmp_path)
    assert (tmp_path / FILE_NAME).stat().st_size <= 1_000
    assert all(kept.get(k) == v for k, v in new.items())  # this run's entries first
    assert kept.get(bytes([0]) * 16) == b"x" * 100  # then the ones it used
    assert len(kept) < 11  # and older ones only while they fit


def test_concurrent_runs_leave_a_valid_cache(tree: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    for n, path in enumerate(sorted(tree.glob("*.rb"))[:40]):
        (other / f"2027010100{n:04d}_{path.name[15:]}").write_bytes(path.read_bytes() + b"\n# copy\n")
    cache = str(tmp_path / "cache")
    command = [sys.executable, "-c", "from bot.cli import main; main()", "classify", "--json", "--cache-dir"]
    runs = [
        subprocess.Popen([*command, cache, str(folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for folder in (tree, other, tree, other)
    ]
    outputs = [r.communicate(timeout=120) for r in runs]
    assert all(r.returncode == 0 for r in runs) and all(err == b"" for _, err in outputs)
    assert outputs[0][0] == outputs[2][0] == run(str(tree), "--json")[1].encode()
    assert outputs[1][0] == outputs[3][0] == run(str(other), "--json")[1].encode()
    entries(Path(cache))  # whole and consistent: whichever run renamed last
    assert not list(Path(cache).glob(".*.tmp"))


def test_a_cache_that_cannot_be_written_is_a_warning_not_a_failure(tree: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "a file"
    blocked.write_text("not a directory")
    code, out, err = run(str(tree), "--json", "--cache-dir", str(blocked / "cache"))
    assert code == 0 and out == run(str(tree), "--json")[1]
    assert err.startswith("pdm-bot: warning: classify cache not saved in ") and err.count("\n") == 1


def test_cache_uses_the_xdg_cache_directory(tree: Path, tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert run(str(tree), "--json", "--cache", env=env) == run(str(tree), "--json")
    assert len(entries(tmp_path / "xdg" / "pdm-bot")) == len(list(tree.glob("*.rb")))
    assert not (tmp_path / "xdg2").exists() and run(
        str(tree), "--json", env={"XDG_CACHE_HOME": str(tmp_path / "xdg2")}
    )
    assert not (tmp_path / "xdg2").exists()  # without --cache nothing is written


def test_stale_temporary_files_of_killed_runs_are_removed(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    stale, recent = cache / f".{FILE_NAME}.dead.tmp", cache / f".{FILE_NAME}.live.tmp"
    stale.write_bytes(b"partial")
    recent.write_bytes(b"partial")
    os.utime(stale, (0, 0))
    run(str(tree), "--json", "--cache-dir", str(cache))
    assert not stale.exists() and recent.exists()
