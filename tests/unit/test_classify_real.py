"""benchmarks/classify_real.py: scoring a local cache of labelled migrations against their manifest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from benchmarks.classify_real import main, read_heldout, read_manifests, render, score

HEADER = "id\trepo\tpath\tcommit\tsha256\tnature\tdatabase\treason"
DROP_COLUMN = b"""class DropLegacyFlag < Gitlab::Database::Migration[2.2]
  def up
    remove_column :widgets, :legacy_flag
  end
end
"""
ASYNC_INDEX = b"""class PrepareWidgetsIndex < Gitlab::Database::Migration[2.2]
  def up
    prepare_async_index :widgets, :owner_id, name: 'index_widgets_on_owner_id'
  end
end
"""
CI_UPDATE = b"""class ResetGadgetState < Gitlab::Database::Migration[2.2]
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    define_batchable_model(:ci_gadgets).each_batch { |batch| batch.update_all(state: 0) }
  end
end
"""


def _row(index: int, name: str, sha: str, nature: str, database: str = "main") -> str:
    path = f"db/post_migrate/2026010100000{index}_{name}.rb"
    return "\t".join([str(1000 + index), "example/repo", path, "c0ffee", sha, nature, database, "hand label"])


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    cache, manifests = tmp_path / "cache", tmp_path / "manifests"
    cache.mkdir()
    manifests.mkdir()
    shas = {}
    for name, text in {"drop": DROP_COLUMN, "async": ASYNC_INDEX, "ci": CI_UPDATE}.items():
        shas[name] = hashlib.sha256(text).hexdigest()
        (cache / f"{shas[name]}.rb").write_bytes(text)
    (cache / f"{'0' * 64}.rb").write_bytes(b"edited since it was labelled")
    rows = [
        _row(1, "drop_legacy_flag", shas["drop"], "ddl_cleanup"),
        _row(2, "prepare_widgets_index", shas["async"], "index_and_constraint"),  # labelled heavy on purpose
        _row(3, "reset_gadget_state", shas["ci"], "data_migration", "ci"),
        _row(4, "not_in_the_cache", "f" * 64, "no_op", "-"),
        _row(5, "changed_text", "0" * 64, "no_op"),
        _row(6, "held_out_by_name", shas["drop"], "ddl_cleanup"),
        _row(7, "held_out_by_id", shas["drop"], "ddl_cleanup"),
    ]
    (manifests / "part_x.tsv").write_text("\n".join([HEADER, *rows]) + "\n")
    heldout = tmp_path / "heldout.txt"
    heldout.write_text("# held out\n1007\tSomethingElse\n999\tHeldOutByName\n")
    return cache, manifests, heldout


def test_score_counts_found_missing_changed_and_refused_rows(setup: tuple[Path, Path, Path]) -> None:
    cache, manifests, heldout = setup
    report = score(read_manifests(manifests), cache, read_heldout(heldout))
    assert [s.row.id for s in report.scored] == ["1001", "1002", "1003"]
    assert [r.id for r in report.missing] == ["1004"]
    assert [r.id for r in report.changed] == ["1005"]
    assert sorted(r.id for r, _ in report.refused) == ["1006", "1007"]


def test_render_reports_accuracy_confusion_heavy_to_light_and_databases(
    setup: tuple[Path, Path, Path],
) -> None:
    cache, manifests, heldout = setup
    text = render(score(read_manifests(manifests), cache, read_heldout(heldout)), cache)
    assert "primary-nature accuracy: 2/3 = 66.7%" in text
    assert "heavy->light misses: 1\n  db/post_migrate/20260101000002_prepare_widgets_index.rb" in text
    assert "database accuracy on files declaring restrict_gitlab_migration: 1/1 = 100.0%" in text
    confusion_index_row = next(line for line in text.splitlines() if line.startswith("index "))
    assert confusion_index_row.split() == ["index", "1", ".", ".", ".", "1"]  # bg, index, data, ddl, total
    assert "label index_and_constraint, predicted background_scheduling" in text


def test_main_without_a_cache_says_so_and_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--cache", str(tmp_path / "absent")]) == 0
    assert "no cache of real migrations" in capsys.readouterr().out


def test_a_manifest_with_a_wrong_header_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.tsv").write_text("path\tnature\n")
    with pytest.raises(ValueError, match="header must be"):
        read_manifests(tmp_path)
