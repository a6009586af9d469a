"""docs/classify.md lists every catalog helper."""

from __future__ import annotations

from pathlib import Path

from scheduler.classify.catalog import CATALOG, QUALIFIED

DOC = Path(__file__).resolve().parents[3] / "docs" / "classify.md"


def test_every_catalog_helper_is_listed_in_the_documentation() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert [name for name in [*CATALOG, *QUALIFIED] if f"| `{name}` |" not in text] == []
