"""The pure half of scheduler.pending: set arithmetic and discrepancies."""

from __future__ import annotations

import pytest

from scheduler.classify.model import Database
from scheduler.errors import PendingSourceError
from scheduler.gitlab_model import MigrationDiff
from scheduler.pending import (
    PendingDiscrepancy,
    PendingSet,
    PendingStrategy,
    SourceView,
    combine,
    database_candidates,
    pending_from_database,
    pending_from_git,
    version_of,
)

SHA = "d" * 40


def p(version: str) -> str:
    return f"db/post_migrate/{version}_migration.rb"


@pytest.mark.parametrize(
    "path, version",
    [(p("20260101000000"), "20260101000000"), ("db/post_migrate/README.md", None), ("x/123abc_y.rb", None)],
)
def test_the_version_is_the_leading_digits_of_the_file_name(path: str, version: str | None) -> None:
    assert version_of(path) == version


def test_git_pending_is_added_plus_carried_minus_deleted_and_executed() -> None:
    diff = MigrationDiff("a" * 40, SHA, added=(p("3"), p("4")), modified=(p("1"),), deleted=(p("2"),))
    carried = {"1": p("1"), "2": p("2")}

    view = pending_from_git(diff, carried, executed={"4"})

    assert view.pending == {"1": p("1"), "3": p("3")}
    assert view.modified == (p("1"),)


def test_database_candidates_are_the_files_missing_from_any_configured_database() -> None:
    applied = {Database.MAIN: {"1", "2"}, Database.CI: {"1"}}
    assert database_candidates([p("1"), p("2"), p("3"), "db/post_migrate/x.md"], applied) == {
        "2": p("2"),
        "3": p("3"),
    }


def test_a_candidate_is_pending_only_in_its_own_database() -> None:
    applied = {Database.MAIN: {"1", "2"}, Database.CI: {"1"}}
    candidates = {"2": p("2"), "3": p("3")}

    main_two = pending_from_database(candidates, {"2": Database.MAIN, "3": Database.MAIN}, applied)
    ci_two = pending_from_database(candidates, {"2": Database.CI, "3": Database.MAIN}, applied)

    assert main_two.pending == {"3": p("3")}
    assert ci_two.pending == {"2": p("2"), "3": p("3")}


def test_a_candidate_of_an_unconnected_database_stays_pending_but_unverified() -> None:
    view = pending_from_database({"5": p("5")}, {"5": Database.CI}, {Database.MAIN: set()})
    assert view.pending == {"5": p("5")} and view.unverified == ("5",)


def test_agreeing_sources_give_one_pending_set_from_both() -> None:
    git = SourceView({"3": p("3")}, modified=(p("1"),))
    database = SourceView({"3": p("3")})

    result = combine("gprd", SHA, PendingStrategy.GIT, git, database)

    assert result == PendingSet(
        "gprd", SHA, (PendingStrategy.GIT, PendingStrategy.DATABASE), {"3": p("3")}, (p("1"),)
    )


def test_disagreeing_sources_give_a_loud_discrepancy_instead_of_a_guess() -> None:
    git = SourceView({"3": p("3"), "4": p("4")})
    database = SourceView({"3": p("3"), "2": p("2")})

    result = combine("gprd", SHA, PendingStrategy.DATABASE, git, database)

    assert result == PendingDiscrepancy("gprd", SHA, git_only=("4",), database_only=("2",), agreed=("3",))
    text = result.describe()
    assert "git says pending but the database says executed: 4" in text
    assert "the database says not executed but git does not list: 2" in text


def test_an_empty_git_answer_against_real_pending_rows_is_a_discrepancy() -> None:
    result = combine("gprd", SHA, PendingStrategy.GIT, SourceView({}), SourceView({"9": p("9")}))
    assert isinstance(result, PendingDiscrepancy) and result.database_only == ("9",)


def test_unverified_versions_do_not_count_as_disagreement() -> None:
    result = combine(
        "gprd", SHA, PendingStrategy.GIT, SourceView({}), SourceView({"9": p("9")}, unverified=("9",))
    )
    assert (
        isinstance(result, PendingSet) and result.migrations == {"9": p("9")} and result.unverified == ("9",)
    )


def test_a_single_available_source_is_used() -> None:
    from_git = combine("gstg", SHA, PendingStrategy.GIT, SourceView({"1": p("1")}), None)
    from_db = combine("gstg", SHA, PendingStrategy.GIT, None, SourceView({"2": p("2")}))

    assert isinstance(from_git, PendingSet) and from_git.sources == (PendingStrategy.GIT,)
    assert isinstance(from_db, PendingSet) and from_db.migrations == {"2": p("2")}


def test_no_source_at_all_is_a_clear_error() -> None:
    with pytest.raises(PendingSourceError, match="/pdm baseline gstg SHA"):
        combine("gstg", SHA, PendingStrategy.GIT, None, None)


def test_the_database_strategy_without_a_database_is_a_clear_error() -> None:
    with pytest.raises(PendingSourceError, match="PDM_DATABASE_MAIN_DSN"):
        combine("gstg", SHA, PendingStrategy.DATABASE, SourceView({}), None)
