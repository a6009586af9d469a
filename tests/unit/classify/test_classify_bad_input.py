"""Bad input never raises: it comes back unknown with an error reason."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.classify import classify_source
from scheduler.classify.model import Confidence
from scheduler.natures import Nature

MIGRATION = b"class X < Gitlab::Database::Migration[2.2]\n  def up\n    add_index :a, :b\n  end\nend\n"


@pytest.mark.parametrize(
    "source, reason",
    [
        (b"", "empty file"),
        (b"  \n\n", "empty file"),
        (b"\x00\x01\x02binary", "binary file"),
        (b"class X < Gitlab::Database::Migration[2.2]\n# caf\xe9\nend\n", "not UTF-8"),
        (b"# " + b"x" * (10 * 1024 * 1024), "larger than any migration"),
        (b"class X < Gitlab::Database::Migration[2.2]\n  def up\n    add_index(:a\n  end\n", "syntax error"),
        (b"module Foo\n  def self.bar; end\nend\n", "no migration class"),
        (b"class Foo < ApplicationRecord\nend\n", "no migration class"),
    ],
    ids=["empty", "blank", "binary", "latin-1", "10MB", "syntax", "no-class", "model-not-migration"],
)
def test_bad_input_is_unknown_with_a_reason(source: bytes, reason: str) -> None:
    result = classify_source(source, "20260101000000_bad.rb")
    assert result.primary_nature is Nature.UNKNOWN
    assert result.natures == [Nature.UNKNOWN]
    assert result.confidence is Confidence.LOW
    assert result.error is not None and reason in result.error


def test_syntax_errors_point_at_the_broken_line() -> None:
    source = b"class X < Gitlab::Database::Migration[2.2]\n  def up\n    add_index :a, [:b\n  end\nend\n"
    result = classify_source(source, "1_x.rb")
    assert result.error is not None and "line 3" in result.error
    assert result.evidence[0].line == 3


@pytest.mark.parametrize(
    "header, line",
    [(b"", 1), (b"# frozen_string_literal: true\n\n", 1), (b"\n\n# Why:\n# because\n\n", 3)],
    ids=["none", "magic-comment", "blank-lines-then-comments"],
)
def test_an_error_in_the_whole_file_is_placed_where_its_first_line_or_comment_is(
    header: bytes, line: int
) -> None:
    # The parser skips a comment header; an error that breaks the whole file (a missing `end`) still points at
    # the file's first line that is not blank, as it does when the header is parsed.
    source = header + b"class X < Gitlab::Database::Migration[2.2]\n  def up\n    add_index :a, :b\n  end\n"
    result = classify_source(source, "1_x.rb")
    assert result.error == f"Ruby syntax error near line {line}"


def test_a_syntax_error_just_after_a_comment_header_is_placed_as_in_the_whole_file() -> None:
    # Without the header, tree-sitter's error recovery builds another tree (it would say line 2).
    source = (
        b"# frozen_string_literal: true\n  .each_batch(of: 1) do |batch|\n\n"
        b"class X < Gitlab::Database::Migration[2.2]\n  def up\n    add_index :a, :b\n  end\nend\n"
    )
    assert classify_source(source, "1_x.rb").error == "Ruby syntax error near line 1"


def test_a_comment_header_keeps_the_lines_of_the_evidence() -> None:
    header = b"# frozen_string_literal: true\n\n" + b"# See the guide for the rationale.\n" * 20
    result = classify_source(header + MIGRATION, "1_x.rb")
    assert result.primary_nature is Nature.INDEX_AND_CONSTRAINT
    assert [(e.line, e.signal) for e in result.evidence] == [(25, "add_index(a)")]


def test_a_file_name_without_version_still_classifies() -> None:
    result = classify_source(MIGRATION, "notes/readme.rb")
    assert (result.version, result.name) == (None, "readme")
    assert result.primary_nature is Nature.INDEX_AND_CONSTRAINT


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(source: bytes) -> None:
    assert classify_source(source, "1_fuzz.rb").primary_nature in set(Nature)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("def up end class <[]():'\"#{}\n_ab=.")), max_size=200))
def test_ruby_like_noise_inside_a_migration_never_raises(noise: str) -> None:
    source = f"class X < Gitlab::Database::Migration[2.2]\n  def up\n{noise}\n  end\nend\n".encode()
    assert classify_source(source, "1_fuzz.rb").primary_nature in set(Nature)
