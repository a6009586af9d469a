"""Table sizes and schemas from GitLab's `db/docs/*.yml`: the reader, the file of a table, the classification
with documented tables, `classify` in a checkout, `plan`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from scheduler.classify import classify_documented, classify_source
from scheduler.classify.model import Database, SizeClass
from scheduler.classify.tabledocs import doc_path, read_table_docs

REPO = Path(__file__).resolve().parents[3]

CI_BUILDS_DOC = """---
table_name: ci_builds
classes:
- Ci::Build
feature_categories:
- continuous_integration
description: TODO
gitlab_schema: gitlab_ci
table_size: over_limit  # see the database dictionary
"""
ISSUES_DOC = "---\ntable_name: issues\ngitlab_schema: gitlab_main_cell\ntable_size: 'large'\n"
UNDECLARED = """class AddIndexOnCiBuilds < Gitlab::Database::Migration[2.2]
  disable_ddl_transaction!

  def up
    add_concurrent_index :ci_builds, :token_encrypted
  end
end
"""
DECLARED_MAIN = """class AddIndexOnCiBuildsInMain < Gitlab::Database::Migration[2.2]
  restrict_gitlab_migration gitlab_schema: :gitlab_main
  disable_ddl_transaction!

  def up
    add_concurrent_index :ci_builds, :token_encrypted
  end
end
"""
BOTH = """class TouchBoth < Gitlab::Database::Migration[2.2]
  def up
    remove_column :issues, :old
    remove_column :ci_builds, :old
  end
end
"""


def test_the_reader_takes_size_and_schema_and_skips_what_it_cannot_use() -> None:
    docs = read_table_docs(
        [CI_BUILDS_DOC, ISSUES_DOC, "table_name: tiny\ntable_size: huge\n", "gitlab_schema: gitlab_ci\n"]
    )
    assert docs.sizes == {"ci_builds": SizeClass.OVER_LIMIT, "issues": SizeClass.LARGE}
    assert docs.schemas == {"ci_builds": "gitlab_ci", "issues": "gitlab_main_cell"}


def test_explicit_sizes_override_documented_ones() -> None:
    docs = read_table_docs([CI_BUILDS_DOC, ISSUES_DOC])
    assert docs.sizes_overridden_by({"issues": SizeClass.SMALL}) == {
        "ci_builds": SizeClass.OVER_LIMIT,
        "issues": SizeClass.SMALL,
    }


@pytest.mark.parametrize(
    ("table", "path"),
    [
        ("ci_builds", "db/docs/ci_builds.yml"),
        ("p_ci_builds", "db/docs/p_ci_builds.yml"),
        ("gitlab_partitions_dynamic.ci_builds_101", None),
        ("../../config/secrets", None),
        ("ci builds", None),
        ("", None),
    ],
)
def test_only_a_plain_table_name_has_a_doc_file(table: str, path: str | None) -> None:
    assert doc_path(table) == path


def test_a_classification_with_docs_takes_their_schemas_and_sizes_unless_given_explicitly() -> None:
    docs = read_table_docs([CI_BUILDS_DOC, ISSUES_DOC])
    documented = classify_documented(BOTH.encode(), "1_x.rb", docs, {})
    explicit = classify_documented(BOTH.encode(), "1_x.rb", docs, {"ci_builds": SizeClass.SMALL})
    assert documented.table_sizes == {"issues": SizeClass.LARGE, "ci_builds": SizeClass.OVER_LIMIT}
    assert explicit.table_sizes == {"issues": SizeClass.LARGE, "ci_builds": SizeClass.SMALL}
    undeclared = classify_documented(UNDECLARED.encode(), "1_x.rb", docs, {"ci_builds": SizeClass.SMALL})
    assert (undeclared.database, undeclared.database_assumed) == (Database.CI, False)


def test_an_undeclared_migration_gets_the_database_of_its_documented_tables() -> None:
    result = classify_source(UNDECLARED.encode(), "1_x.rb", table_schemas={"ci_builds": "gitlab_ci"})
    assert (result.database, result.database_assumed) == (Database.CI, False)
    assert any(
        e.signal == "db/docs gitlab_schema" and "ci_builds: gitlab_ci" in (e.note or "")
        for e in result.evidence
    )


def test_a_declared_database_wins_over_the_documented_schema() -> None:
    result = classify_source(DECLARED_MAIN.encode(), "1_x.rb", table_schemas={"ci_builds": "gitlab_ci"})
    assert (result.database, result.database_assumed) == (Database.MAIN, False)


def test_tables_in_several_databases_leave_main_assumed_and_say_why() -> None:
    schemas = {"ci_builds": "gitlab_ci", "issues": "gitlab_main_cell"}
    result = classify_source(BOTH.encode(), "1_x.rb", table_schemas=schemas)
    assert (result.database, result.database_assumed) == (Database.MAIN, True)
    assert any("several databases" in (e.note or "") for e in result.evidence)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A small GitLab-like checkout: db/docs with two tables, two post-deploy migrations."""
    (tmp_path / "db" / "docs").mkdir(parents=True)
    (tmp_path / "db" / "docs" / "ci_builds.yml").write_text(CI_BUILDS_DOC)
    (tmp_path / "db" / "docs" / "issues.yml").write_text(ISSUES_DOC)
    post = tmp_path / "db" / "post_migrate"
    post.mkdir()
    (post / "20260110000000_add_index_on_ci_builds.rb").write_text(UNDECLARED)
    (post / "20260110000100_touch_both.rb").write_text(BOTH)
    return tmp_path


def classify_json(*args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, ["classify", "--json", *args])
    assert result.exit_code == 0, result.output
    data: list[dict[str, object]] = json.loads(result.stdout)
    return data


def test_classify_inside_a_checkout_reads_sizes_and_schemas_from_db_docs(checkout: Path) -> None:
    first, second = classify_json(str(checkout / "db" / "post_migrate"))
    assert first["table_sizes"] == {"ci_builds": "over_limit"}
    assert (first["database"], first["database_assumed"]) == ("ci", False)
    assert second["table_sizes"] == {"issues": "large", "ci_builds": "over_limit"}


def test_one_file_of_a_checkout_finds_the_docs_too(checkout: Path) -> None:
    (only,) = classify_json(
        str(checkout / "db" / "post_migrate" / "20260110000000_add_index_on_ci_builds.rb")
    )
    assert only["table_sizes"] == {"ci_builds": "over_limit"}


def test_table_sizes_option_overrides_the_docs(checkout: Path, tmp_path: Path) -> None:
    sizes = tmp_path / "sizes.yml"
    sizes.write_text("ci_builds: small\n")
    (first, _) = classify_json(str(checkout / "db" / "post_migrate"), "--table-sizes", str(sizes))
    assert first["table_sizes"] == {"ci_builds": "small"}


def test_outside_a_checkout_nothing_is_documented(tmp_path: Path) -> None:
    (tmp_path / "20260110000000_x.rb").write_text(UNDECLARED)
    (only,) = classify_json(str(tmp_path))
    assert only["table_sizes"] == {} and only["database_assumed"] is True


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_plan_reads_db_docs_at_the_deployed_revision_and_the_policy_map_overrides(checkout: Path) -> None:
    (checkout / "db" / "docs" / "ci_builds.yml").write_text(
        "table_name: ci_builds\ngitlab_schema: gitlab_ci\ntable_size: small\n"
    )
    (checkout / "db" / "docs" / "notes.yml").write_text("table_name: notes\ntable_size: over_limit\n")
    (checkout / "db" / "post_migrate" / "20260110000200_drop_notes_column.rb").write_text(
        BOTH.replace("TouchBoth", "DropNotesColumn").replace(":issues", ":notes")
    )
    git(checkout, "init", "-q", "-b", "main")
    commit = ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q"]
    git(checkout, *commit, "--allow-empty", "-m", "base")
    git(checkout, "tag", "baseline")
    git(checkout, "add", "-A")
    git(checkout, *commit, "-m", "migrations")
    (checkout / "db" / "docs" / "notes.yml").write_text("table_name: notes\ntable_size: small\n")
    policy = str(REPO / "examples" / "policy.yaml")  # its table_sizes say ci_builds: over_limit
    args = ["--repo", str(checkout), "--from", "baseline", "--to", "main", "--policy", policy]
    result = CliRunner().invoke(cli, ["plan", *args, "--at", "2026-01-09T15:00:00Z", "--json"])
    assert result.exit_code == 0, result.output
    first, _, third = json.loads(result.stdout)["pending"]
    assert first["table_sizes"] == {"ci_builds": "over_limit"}  # the policy map beats the docs (small)
    assert (first["database"], first["database_assumed"]) == ("ci", False)
    # the committed docs count, not the later edit of the working tree
    assert third["table_sizes"] == {"notes": "over_limit", "ci_builds": "over_limit"}
