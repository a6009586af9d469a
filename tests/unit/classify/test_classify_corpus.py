"""The hand-written corpus of GitLab-style migrations: every file gets exactly its expected natures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from scheduler.classify import classify_source
from scheduler.classify.catalog import BATCH_LOOPS, CATALOG, LOOKUPS, QUALIFIED
from scheduler.classify.model import Classification
from scheduler.natures import Nature

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
EXPECTED: dict[str, dict[str, object]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())


def outcome(file_name: str) -> dict[str, object]:
    result = classify_source((CORPUS / file_name).read_bytes(), file_name)
    return {"natures": [n.value for n in result.natures], "primary": result.primary_nature.value}


@pytest.mark.parametrize("file_name", sorted(EXPECTED))
def test_corpus_file_gets_its_expected_natures(file_name: str) -> None:
    assert outcome(file_name) == EXPECTED[file_name]


def test_corpus_accuracy_is_total_and_reported(capsys: pytest.CaptureFixture[str]) -> None:
    correct = sum(outcome(name) == expected for name, expected in EXPECTED.items())
    with capsys.disabled():
        print(f"\nclassifier corpus accuracy: {correct}/{len(EXPECTED)} = {correct / len(EXPECTED):.1%}")
    assert correct == len(EXPECTED)


def test_corpus_has_every_file_listed_and_at_least_eighty() -> None:
    files = {p.name for p in CORPUS.glob("*.rb")}
    assert files == set(EXPECTED)
    assert len(files) >= 80


def test_corpus_covers_every_nature_as_primary() -> None:
    assert {e["primary"] for e in EXPECTED.values()} == {n.value for n in Nature}


def test_corpus_calls_every_catalog_helper() -> None:
    text = "\n".join(p.read_text() for p in CORPUS.glob("*.rb"))
    names = [*CATALOG, *LOOKUPS, *BATCH_LOOPS]
    missing = [n for n in names if not re.search(rf"(?<!\w){re.escape(n)}(?![\w!?])", text)]
    # `Receiver.method` rows are often called through `.new(...)`: the receiver and `.method` must appear.
    receivers_and_methods = [n.rsplit(".", 1) for n in QUALIFIED]
    missing += [f"{r}.{m}" for r, m in receivers_and_methods if r not in text or f".{m}" not in text]
    assert missing == []


def test_corpus_covers_main_ci_and_sec_databases() -> None:
    databases = {
        classify_source((CORPUS / name).read_bytes(), name).database.value for name in sorted(EXPECTED)
    }
    assert databases == {"main", "ci", "sec"}


def test_classifications_built_without_validation_survive_a_validating_round_trip() -> None:
    for name in sorted(EXPECTED):
        result = classify_source((CORPUS / name).read_bytes(), name)
        assert Classification.model_validate_json(result.model_dump_json()) == result, name
