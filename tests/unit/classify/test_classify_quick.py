"""`pdm-bot classify --json --cache...` answered before click is loaded: same options, same bytes, or not."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import classify_walk
from bot.classify_index import RACY_NS
from bot.classify_quick import read_options
from bot.cli_classify import classify
from scheduler.classify.tabledocs import DOCS_DIR as DOCUMENTED_DIR

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
# the command's entry point, then which of click and the parser it imported
RUN = (
    "import sys\nfrom bot.cli import main\nsys.argv = ['pdm-bot', 'classify', *sys.argv[1:]]\n"
    "try:\n    main()\nfinally:\n"
    "    print('click' in sys.modules, 'tree_sitter' in sys.modules, file=sys.stderr)\n"
)
TOKENS = [
    *["--json", "--cache", "--cache-dir", "--cache-dir=c", "--cache-dir=", "--fail-on", "--fail-on=unknown"],
    *["--fail-on=bogus", "unknown", "no_op", "bogus", "a.rb", "dir", "-", "--", "", "-h", "--help", "-x"],
    *["--table-sizes", "--table-sizes=s.yml", "s.yml", "--jso", "--json=1", "--cache=1", "--cache-dir=-x"],
]


def click_params(argv: list[str]) -> dict[str, object] | None:
    """What click gives the command for `argv`, or None when it refuses it."""
    try:
        with classify.make_context("classify", list(argv)) as ctx:
            return {k: list(v) if isinstance(v, tuple) else v for k, v in ctx.params.items()}
    except click.exceptions.Exit:
        return None  # --help
    except click.UsageError:
        return None


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=7))
def test_the_options_read_before_click_are_the_ones_click_reads(argv: list[str]) -> None:
    options = read_options(argv)
    if options is not None:
        mine = {name: getattr(options, name) for name in options.__slots__}
        assert mine == click_params(argv)


def test_the_plain_forms_of_the_options_are_read() -> None:
    options = read_options(["--json", "a", "--cache-dir", "c", "--fail-on=unknown", "--", "--json"])
    assert options is not None
    assert (options.paths, options.as_json, options.cache_dir) == (["a", "--json"], True, "c")
    assert options.fail_on == ["unknown"] and not options.use_cache
    assert read_options(["--table-sizes", "s.yml", "a"]) is None  # left to click


def test_the_walk_looks_for_the_directory_the_table_docs_come_from() -> None:
    assert classify_walk._DOCS_DIR == DOCUMENTED_DIR


@pytest.fixture(scope="module")
def aged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tree older than the racy window, and its cache filled."""
    root = tmp_path_factory.mktemp("quick")
    shutil.copytree(CORPUS, root / "tree", ignore=shutil.ignore_patterns("*.yaml"))
    time.sleep(RACY_NS / 1e9 + 0.2)
    run("--json", "--cache-dir", str(root / "cache"), str(root / "tree"))
    return root


def run(*args: str) -> tuple[int, bytes, str]:
    done = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, timeout=120)
    return done.returncode, done.stdout, done.stderr.decode()


def test_an_unchanged_tree_is_printed_without_importing_click(aged: Path) -> None:
    tree, cache = str(aged / "tree"), str(aged / "cache")
    code, fresh, err = run("--json", tree)
    assert (code, err) == (0, "True True\n")
    for args in (["--json", "--cache-dir", cache, tree], [tree, "--cache-dir=" + cache, "--json"]):
        assert run(*args) == (0, fresh, "False False\n")


@pytest.mark.parametrize(
    "args",
    [
        ["--fail-on", "unknown"],  # a flagged file: the command prints the message and exits 1
        ["--table-sizes", "SIZES"],
        [],  # the table, not --json
    ],
)
def test_other_runs_go_to_the_command(aged: Path, tmp_path: Path, args: list[str]) -> None:
    sizes = tmp_path / "sizes.yml"
    sizes.write_text("ci_builds: large\n")
    args = [str(sizes) if a == "SIZES" else a for a in args]
    json = ["--json"] if args != [] else []
    tree, cache = str(aged / "tree"), str(aged / "cache")
    code, out, err = run(*json, *args, "--cache-dir", cache, tree)
    *messages, imported = err.splitlines()
    fresh = run(*json, *args, tree)
    assert (code, out) == fresh[:2] and imported.startswith("True ")  # click: the command ran
    assert messages == fresh[2].splitlines()[:-1]


def test_a_changed_file_goes_to_the_command(aged: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(aged / "tree", tree)  # new inodes and ctimes: unknown to the index
    code, out, err = run("--json", "--cache-dir", str(aged / "cache"), str(tree))
    assert (code, out) == run("--json", str(tree))[:2] and err == "True False\n"
