"""The plain `Result` and its JSON match the pydantic `Classification` field for field, byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.classify import classify_migration
from scheduler.classify.model import Classification
from scheduler.classify.result import FIELDS, Confidence, Database, Evidence, Result, SizeClass, result_json
from scheduler.natures import Nature

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
BAD = [b"", b"\x00", b"caf\xe9", b"class X < Gitlab::Database::Migration[2.2]\n  def up\n    add_index(:a\n"]


def test_classification_has_the_fields_of_result_in_the_same_order() -> None:
    assert tuple(Classification.model_fields) == FIELDS


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.rb")), ids=lambda p: p.name[:40])
def test_corpus_json_is_what_pydantic_writes(path: Path) -> None:
    result = classify_migration(path.read_bytes(), str(path))
    assert result_json(result) == Classification.from_result(result).model_dump_json()


@pytest.mark.parametrize("source", BAD)
def test_bad_input_json_is_what_pydantic_writes(source: bytes) -> None:
    result = classify_migration(source, "20260101000000_bad.rb")
    assert result.error is not None
    assert result_json(result) == Classification.from_result(result).model_dump_json()


# Any text, with quotes, backslashes, control characters and characters outside the BMP.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
EVIDENCE = st.builds(
    Evidence, st.integers(0, 10**6), TEXT, st.none() | st.sampled_from(Nature), st.none() | TEXT
)
RESULTS = st.builds(
    Result,
    path=TEXT,
    version=st.none() | TEXT,
    name=st.none() | TEXT,
    primary_nature=st.sampled_from(Nature),
    natures=st.lists(st.sampled_from(Nature)),
    database=st.sampled_from(Database),
    database_assumed=st.booleans(),
    tables=st.lists(TEXT, max_size=3),
    table_sizes=st.dictionaries(TEXT, st.sampled_from(SizeClass), max_size=3),
    declared=st.booleans(),
    confidence=st.sampled_from(Confidence),
    evidence=st.lists(EVIDENCE, max_size=4),
    resolution=st.none() | TEXT,
    disable_ddl_transaction=st.booleans(),
    lock_retries=st.booleans(),
    milestone=st.none() | TEXT,
    created_tables=st.lists(TEXT, max_size=3),
    error=st.none() | TEXT,
    touches_no_table=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(RESULTS)
def test_any_result_is_written_as_pydantic_writes_it(result: Result) -> None:
    assert result_json(result) == Classification.from_result(result).model_dump_json()


def test_the_classify_command_does_not_import_pydantic() -> None:
    one = CORPUS / "20260105124900_add_index_on_ci_builds_project_id_and_status.rb"
    code = (
        "import sys\nfrom bot.cli import main\nsys.argv = ['pdm-bot', 'classify', '--json', sys.argv[1]]\n"
        "try:\n    main()\nfinally:\n    print('pydantic' in sys.modules, file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", code, str(one)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and '"primary_nature":"index_and_constraint"' in run.stdout
    assert run.stderr.strip() == "False"
