"""`pdm-bot classify` through click's CliRunner: outputs, exit codes and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.classify_walk import read_file
from bot.cli import cli

INDEX = b"""class AddIndex < Gitlab::Database::Migration[2.2]
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    add_concurrent_index :ci_builds, :project_id
  end
end
"""
QUEUE = b"""class QueueBackfill < Gitlab::Database::Migration[2.2]
  def up
    queue_batched_background_migration('BackfillX', :issues, :id)
  end
end
"""
JSON_KEYS = {
    "path", "version", "name", "primary_nature", "natures", "database", "tables", "declared",
    "confidence", "evidence", "error",
}  # fmt: skip


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    (tmp_path / "nested").mkdir()
    (tmp_path / "20260105101500_add_index_on_ci_builds_project_id.rb").write_bytes(INDEX)
    (tmp_path / "nested" / "20260105090000_queue_backfill.rb").write_bytes(QUEUE)
    (tmp_path / "README.md").write_text("not a migration")
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["classify", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_directory_is_searched_recursively_and_printed_as_an_aligned_table(migrations: Path) -> None:
    code, out, _ = run(str(migrations))
    header, *rows = out.splitlines()
    assert code == 0 and len(rows) == 2
    assert header.split()[:4] == ["VERSION", "NAME", "PRIMARY", "DATABASE"]
    for column in ("PRIMARY", "DATABASE", "TABLES", "EVIDENCE"):
        assert {row[header.index(column) - 1] for row in rows} == {" "}, column
    assert "ci_builds" in out and "index_and_constraint" in out and "add_concurrent_index@" in out


def test_json_output_follows_the_contract(migrations: Path) -> None:
    code, out, _ = run(str(migrations), "--json")
    data = json.loads(out)
    assert code == 0 and len(data) == 2
    assert all(set(item) >= JSON_KEYS for item in data)
    by_name = {item["name"]: item for item in data}
    index = by_name["add_index_on_ci_builds_project_id"]
    assert (index["primary_nature"], index["database"], index["tables"]) == (
        "index_and_constraint",
        "ci",
        ["ci_builds"],
    )
    assert {
        "line": 6,
        "signal": "add_concurrent_index(ci_builds)",
        "nature": "index_and_constraint",
    }.items() <= (index["evidence"][-1].items())
    assert index["error"] is None


def test_files_of_a_directory_come_in_sorted_path_order(migrations: Path) -> None:
    _, out, _ = run(str(migrations), "--json")
    paths = [item["path"] for item in json.loads(out)]
    assert paths == sorted(paths)


def test_fail_on_a_primary_nature_that_is_present_exits_one(migrations: Path) -> None:
    code, out, err = run(str(migrations), "--fail-on", "unknown", "--fail-on", "index_and_constraint")
    assert code == 1 and "VERSION" in out
    assert err.strip() == "1 file(s) with a primary nature in --fail-on: unknown, index_and_constraint"


def test_fail_on_a_nature_that_is_absent_exits_zero(migrations: Path) -> None:
    assert run(str(migrations), "--fail-on", "ddl_cleanup")[0] == 0


def test_fail_on_an_invalid_nature_is_a_usage_error(migrations: Path) -> None:
    assert run(str(migrations), "--fail-on", "heavy")[0] == 2


def test_a_missing_path_exits_two_with_one_line(tmp_path: Path) -> None:
    code, out, err = run(str(tmp_path / "nope.rb"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "nope.rb: no such file or directory" in err


def test_table_sizes_are_shown_next_to_tables(migrations: Path, tmp_path: Path) -> None:
    sizes = tmp_path / "sizes.yml"
    sizes.write_text("ci_builds: over_limit\nissues: large\n")
    code, out, _ = run(str(migrations), "--table-sizes", str(sizes))
    assert code == 0 and "ci_builds(over_limit)" in out and "issues(large)" in out


@pytest.mark.parametrize(
    "content, message",
    [
        ("ci_builds: huge\n", "has size 'huge'"),
        ("- ci_builds\n", "must be a mapping"),
        ("ci_builds: [\n", "cannot read table sizes"),
    ],
    ids=["bad-size", "not-a-mapping", "bad-yaml"],
)
def test_a_bad_table_sizes_file_exits_two_with_one_line(
    migrations: Path, tmp_path: Path, content: str, message: str
) -> None:
    sizes = tmp_path / "sizes.yml"
    sizes.write_text(content)
    code, _, err = run(str(migrations), "--table-sizes", str(sizes))
    assert code == 2 and err.count("\n") == 1 and message in err


def test_a_missing_table_sizes_file_exits_two(migrations: Path, tmp_path: Path) -> None:
    code, _, err = run(str(migrations), "--table-sizes", str(tmp_path / "none.yml"))
    assert code == 2 and "No such file" in err


def test_a_broken_file_is_reported_in_the_table_not_as_a_crash(tmp_path: Path) -> None:
    (tmp_path / "20260101000000_broken.rb").write_bytes(b"\xff\xfe\x00")
    code, out, _ = run(str(tmp_path), "--fail-on", "unknown")
    assert code == 1 and "error: binary file" in out


def test_an_empty_directory_prints_a_note_and_succeeds(tmp_path: Path) -> None:
    code, out, err = run(str(tmp_path))
    assert code == 0 and out == "" and "no *.rb migration files found" in err


def test_directories_are_walked_in_path_component_order(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    for name in ("a/z.rb", "a-x.rb", "a.rb", "b.rb", "a/b/c.rb"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(QUEUE)
    _, out, _ = run(str(tmp_path), "--json")
    paths = [Path(item["path"]).relative_to(tmp_path).as_posix() for item in json.loads(out)]
    assert paths == ["a/b/c.rb", "a/z.rb", "a-x.rb", "a.rb", "b.rb"]  # as sorted by components, not as text


@pytest.mark.parametrize("size", [0, 65_535, 65_536, 65_537, 300_000])
def test_files_are_read_whole_whatever_their_size(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f.rb"
    path.write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
    assert read_file(str(path)) == path.read_bytes()


def test_an_unreadable_file_exits_two_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "20260101000000_folder.rb"
    folder.mkdir()
    code, out, err = run(str(folder / "missing.rb"))
    assert code == 2 and out == "" and "missing.rb" in err and err.count("\n") == 1
    with pytest.raises(OSError) as raised:
        read_file(str(folder))
    assert raised.value.filename == str(folder)
