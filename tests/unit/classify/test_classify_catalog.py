"""The helper catalog covers every helper named in migration-natures.md, as well-formed data."""

from __future__ import annotations

import pytest

from scheduler.classify import classify_source
from scheduler.classify.catalog import (
    BATCH_LOOPS,
    CATALOG,
    ENQUEUE_CALLS,
    LOOKUPS,
    MODEL_WRITES,
    NEUTRAL_CALLS,
    QUALIFIED,
)
from scheduler.natures import Nature

# A local copy of the helper list of shared/migration-natures.md (so CI needs nothing outside the repo).
NATURES_MD_HELPERS: dict[Nature, list[str]] = {
    Nature.BACKGROUND_SCHEDULING: [
        "queue_batched_background_migration", "delete_batched_background_migration",
        "queue_background_migration_jobs_by_range_at_intervals",
        "requeue_background_migration_jobs_by_range_at_intervals", "migrate_in", "bulk_migrate_in",
        "bulk_migrate_async", "delete_queued_jobs", "prepare_async_index", "prepare_async_index_from_sql",
        "prepare_async_index_removal", "unprepare_async_index", "unprepare_async_index_by_name",
        "prepare_async_foreign_key_validation", "prepare_async_check_constraint_validation",
        "prepare_partitioned_async_index", "prepare_partitioned_async_foreign_key_validation",
        "backfill_conversion_of_integer_to_bigint", "sidekiq_remove_jobs",
    ],
    Nature.INDEX_AND_CONSTRAINT: [
        "add_concurrent_index", "remove_concurrent_index", "remove_concurrent_index_by_name",
        "add_concurrent_partitioned_index", "remove_concurrent_partitioned_index_by_name",
        "add_concurrent_foreign_key", "add_concurrent_partitioned_foreign_key", "validate_foreign_key",
        "validate_check_constraint", "validate_not_null_constraint", "validate_text_limit",
        "add_not_null_constraint", "add_text_limit", "add_check_constraint", "add_index",
    ],
    Nature.DATA_MIGRATION: [
        "update_column_in_batches", "finalize_batched_background_migration",
        "ensure_batched_background_migration_is_finished", "finalize_backfilling_partitioned_table",
    ],
    Nature.DDL_CLEANUP: [
        "add_column", "add_reference", "add_timestamps_with_timezone", "create_trigger",
        "remove_column", "remove_columns", "drop_table", "remove_reference", "remove_timestamps",
        "remove_index", "remove_foreign_key", "remove_foreign_key_if_exists", "remove_check_constraint",
        "remove_not_null_constraint", "remove_text_limit", "cleanup_concurrent_column_rename",
        "cleanup_concurrent_column_type_change", "cleanup_conversion_of_integer_to_bigint",
        "swap_primary_key", "rename_column", "rename_table", "change_column_default", "change_column_null",
        "drop_sequence", "truncate_tables!", "replace_with_partitioned_table", "drop_partitioned_table_for",
    ],
}  # fmt: skip
MODEL_METHODS = ["update_all", "delete_all", "destroy_all", "insert_all", "upsert_all"]
QUALIFIED_MD = {"Gitlab::BackgroundMigration.steal": Nature.DATA_MIGRATION}
ENQUEUE_MD = ["perform_async", "bulk_perform_in"]


@pytest.mark.parametrize(
    "helper, nature",
    [(h, n) for n, helpers in NATURES_MD_HELPERS.items() for h in helpers],
)
def test_every_documented_helper_is_in_the_catalog_with_its_nature(helper: str, nature: Nature) -> None:
    assert nature in CATALOG[helper].natures


def test_documented_model_writes_qualified_calls_and_enqueues_are_recognised() -> None:
    assert set(MODEL_METHODS) <= MODEL_WRITES
    assert set(ENQUEUE_MD) <= ENQUEUE_CALLS
    assert all(nature in QUALIFIED[name].natures for name, nature in QUALIFIED_MD.items())


def test_batched_loops_are_not_writes_by_themselves() -> None:
    # migration-natures.md rulings: a batched loop writes only when its block does.
    assert {"each_batch", "find_each"} <= BATCH_LOOPS
    assert not BATCH_LOOPS & (MODEL_WRITES | set(CATALOG))


def test_look_ups_are_kept_apart_from_effectful_helpers() -> None:
    assert not set(LOOKUPS) & (set(CATALOG) | NEUTRAL_CALLS | MODEL_WRITES)
    assert all(10 <= len(why) <= 80 for why in LOOKUPS.values())


def test_catalog_rows_are_keyed_by_name_and_explain_themselves() -> None:
    for name, row in CATALOG.items():
        assert row.name == name
        assert row.natures or row.creates_table, name
        assert 10 <= len(row.why) <= 80, name
        assert row.table_arg is None or isinstance(row.table_arg, int | str)


def test_catalog_is_larger_than_the_documented_starting_list() -> None:
    documented = {h for helpers in NATURES_MD_HELPERS.values() for h in helpers}
    assert len(CATALOG) >= len(documented) + 40


@pytest.mark.parametrize("helper", sorted(CATALOG))
def test_each_catalog_helper_alone_in_up_gives_its_most_restrictive_nature(helper: str) -> None:
    source = (
        "class X < Gitlab::Database::Migration[2.2]\n"
        f"  def up\n    {helper}(:some_table, :some_column)\n  end\nend\n"
    ).encode()
    result = classify_source(source, "20260101000000_x.rb")
    assert result.primary_nature == max(CATALOG[helper].natures, key=lambda n: n.rank, default=Nature.NO_OP)
