"""Raw SQL statement kinds and their natures."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.classify.sql import _split, classify_sql
from scheduler.natures import Nature


@pytest.mark.parametrize(
    "sql, kind, nature",
    [
        ("CREATE INDEX CONCURRENTLY idx ON issues (x)", "CREATE INDEX", Nature.INDEX_AND_CONSTRAINT),
        ("create unique index idx on issues (x)", "CREATE INDEX", Nature.INDEX_AND_CONSTRAINT),
        ("ALTER TABLE t VALIDATE CONSTRAINT check_1", "VALIDATE CONSTRAINT", Nature.INDEX_AND_CONSTRAINT),
        ("ALTER TABLE issues ADD CONSTRAINT c CHECK (x > 0) NOT VALID", "ALTER TABLE … ADD CONSTRAINT",
         Nature.INDEX_AND_CONSTRAINT),
        ("ALTER TABLE issues DROP COLUMN x", "ALTER TABLE … DROP", Nature.DDL_CLEANUP),
        ("ALTER TABLE issues ADD COLUMN x int", "ALTER TABLE", Nature.DDL_CLEANUP),
        ("UPDATE issues SET x = 1", "UPDATE", Nature.DATA_MIGRATION),
        ("DELETE FROM issues WHERE x = 1", "DELETE", Nature.DATA_MIGRATION),
        ("INSERT INTO issues (x) VALUES (1)", "INSERT", Nature.DATA_MIGRATION),
        ("DROP TABLE IF EXISTS issues", "DROP TABLE", Nature.DDL_CLEANUP),
        ("DROP INDEX CONCURRENTLY IF EXISTS idx", "DROP INDEX CONCURRENTLY", Nature.INDEX_AND_CONSTRAINT),
        ("DROP INDEX idx", "DROP INDEX", Nature.DDL_CLEANUP),
        ("TRUNCATE TABLE issues", "TRUNCATE", Nature.DDL_CLEANUP),
        ("CREATE TRIGGER t BEFORE INSERT ON issues FOR EACH ROW EXECUTE FUNCTION f()", "CREATE TRIGGER",
         Nature.DDL_CLEANUP),
        ("CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$ BEGIN END $$ LANGUAGE plpgsql",
         "CREATE FUNCTION", Nature.DDL_CLEANUP),
        ("REINDEX INDEX CONCURRENTLY idx", "REINDEX", Nature.INDEX_AND_CONSTRAINT),
        ("ANALYZE issues", "ANALYZE", Nature.UNKNOWN),
        ("VACUUM issues", "VACUUM", Nature.UNKNOWN),
        ("SELECT setval('s', 1)", "SELECT", Nature.UNKNOWN),
        ("WITH d AS (SELECT 1) DELETE FROM issues USING d", "DELETE", Nature.DATA_MIGRATION),
        ("SET statement_timeout TO 0", "SET", None),
    ],
)  # fmt: skip
def test_statement_kind_and_nature(sql: str, kind: str, nature: Nature | None) -> None:
    (statement,) = classify_sql(sql)
    assert (statement.kind, statement.nature) == (kind, nature)


def test_statements_split_on_semicolons_but_not_inside_function_bodies_or_quotes() -> None:
    sql = (
        "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN UPDATE a SET x = 1; RETURN NEW; END $$;"
        " UPDATE issues SET title = 'a;b'; -- DROP TABLE x;\n"
    )
    assert [s.kind for s in classify_sql(sql)] == ["CREATE FUNCTION", "UPDATE"]


def test_interpolations_are_placeholders_and_tables_are_named() -> None:
    (statement,) = classify_sql("UPDATE #{table_name} SET x = 1; ")
    assert statement.kind == "UPDATE"
    (statement,) = classify_sql("DELETE FROM ci_builds WHERE id = #{id}")
    assert statement.tables == ("ci_builds",)
    (statement,) = classify_sql("CREATE INDEX CONCURRENTLY i ON ONLY p_ci_builds (x)")
    assert statement.tables == ("p_ci_builds",)


def test_empty_sql_has_no_statements() -> None:
    assert classify_sql("  ;\n -- nothing\n") == []


def split_per_character(text: str) -> list[str]:
    """The statement splitter stepping one character at a time: the oracle for `_split`'s jumps."""
    parts: list[str] = []
    start = i = 0
    quote: str | None = None
    while i < len(text):
        if quote is not None:
            if text.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
        elif text[i] == "'":
            quote = "'"
        elif text[i] == "$":
            end = text.find("$", i + 1)
            tag = text[i : end + 1] if end != -1 else ""
            if tag and re.fullmatch(r"\$\w*\$", tag):
                quote, i = tag, end + 1
                continue
        elif text[i] == ";":
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


@settings(max_examples=2000, deadline=None)
@given(st.text(st.sampled_from("';$ax_1-\n"), max_size=40))
def test_statements_split_as_stepping_one_character_at_a_time_would(text: str) -> None:
    assert _split(text) == split_per_character(text)
