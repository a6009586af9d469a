"""`pdm-bot classify` on a large tree: spread over processes, same answers, same order as in one process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.classify_files import PARALLEL_MIN_FILES, classify_paths, usable_cores
from scheduler.classify.model import Classification

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def test_a_large_tree_gives_the_same_json_in_the_same_order_as_one_process(tmp_path: Path) -> None:
    corpus = sorted(CORPUS.glob("*.rb"))
    copies = PARALLEL_MIN_FILES // len(corpus) + 1
    for n in range(copies):
        folder = tmp_path / f"part{n:02d}"
        folder.mkdir()
        for path in corpus:
            shutil.copy(path, folder / path.name)
    assert copies * len(corpus) >= PARALLEL_MIN_FILES and usable_cores() >= 2  # a fresh CLI process forks

    command = [sys.executable, "-c", "from bot.cli import main; main()", "classify", "--json", str(tmp_path)]
    result = subprocess.run([*command, "--fail-on", "unknown"], capture_output=True, text=True, timeout=300)

    assert result.returncode == 1  # the corpus has unknown files: --fail-on still works across processes
    printed = json.loads(result.stdout)
    in_process = classify_paths([str(tmp_path)], {})
    expected = [Classification.from_result(r).model_dump(mode="json") for r in in_process]
    assert printed == expected
    assert [p["path"] for p in printed] == sorted(p["path"] for p in printed)


def test_a_large_tree_through_the_cache_gives_the_same_json(tmp_path: Path) -> None:
    for n in range(PARALLEL_MIN_FILES // len(list(CORPUS.glob("*.rb"))) + 1):
        shutil.copytree(CORPUS, tmp_path / "tree" / f"part{n:02d}", ignore=shutil.ignore_patterns("*.yaml"))
    command = [sys.executable, "-c", "from bot.cli import main; main()", "classify", "--json"]
    tree, cache = str(tmp_path / "tree"), str(tmp_path / "cache")
    fresh = subprocess.run([*command, tree], capture_output=True, timeout=300)
    filling = subprocess.run([*command, "--cache-dir", cache, tree], capture_output=True, timeout=300)
    warm = subprocess.run([*command, "--cache-dir", cache, tree], capture_output=True, timeout=300)
    assert len(json.loads(fresh.stdout)) >= PARALLEL_MIN_FILES
    assert fresh.stdout == filling.stdout == warm.stdout and filling.stderr == warm.stderr == b""


# Runs in a fresh process: the files are shared over forked processes only when the caller has one thread.
_STOPS_ON_MISSING = """
import os, sys
from pathlib import Path

import pytest
from bot import classify_files

paths = sorted(str(p) for p in Path(sys.argv[1]).rglob("*.rb"))
paths.insert(int(sys.argv[2]) % (len(paths) + 1), sys.argv[3])
classify_files._DOCS[:] = [({}, {})]
try:
    classify_files._process([(path, 0) for path in paths], as_json=True)
except OSError as exc:
    print(exc.filename)
try:
    os.waitpid(-1, os.WNOHANG)
except ChildProcessError:
    print("no process left")
"""


@pytest.mark.parametrize("position", [0, 600, -1])
def test_a_file_that_cannot_be_read_among_many_stops_the_run_with_its_error(
    tmp_path: Path, position: int
) -> None:
    corpus = sorted(CORPUS.glob("*.rb"))
    for n in range(PARALLEL_MIN_FILES // len(corpus) + 1):
        shutil.copytree(CORPUS, tmp_path / f"part{n:02d}", ignore=shutil.ignore_patterns("*.yaml"))
    missing = str(tmp_path / "gone" / "20260101000000_gone.rb")  # the first, a middle or the last chunk

    command = [sys.executable, "-c", _STOPS_ON_MISSING, str(tmp_path), str(position), missing]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [missing, "no process left"]
