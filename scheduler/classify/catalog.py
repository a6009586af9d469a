"""The helper catalog: every migration helper the classifier knows, as data.

Two kinds, kept apart. `CATALOG` holds the helpers that *do* something: one row per helper with its natures,
where its table argument is (a position, a keyword name, or None), whether it is cheap on a table created
or truncated in the same migration, and one line saying why. `LOOKUPS` holds the helpers that only read the
catalog or compute a name (existence checks, name builders, definition and partition look-ups): they add no
nature and are never `unknown`. Both come from GitLab's migration helper modules; `docs/classify.md` lists
them.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.natures import Nature

BG = (Nature.BACKGROUND_SCHEDULING,)
IDX = (Nature.INDEX_AND_CONSTRAINT,)
DATA = (Nature.DATA_MIGRATION,)
DDL = (Nature.DDL_CLEANUP,)
DDL_DATA = (Nature.DDL_CLEANUP, Nature.DATA_MIGRATION)
DDL_BG = (Nature.DDL_CLEANUP, Nature.BACKGROUND_SCHEDULING)
NONE: tuple[Nature, ...] = ()
EVERY = "*"  # table argument: every positional argument names a table


@dataclass(frozen=True, slots=True)
class Helper:
    """One catalog row."""

    name: str
    natures: tuple[Nature, ...]
    table_arg: int | str | None
    why: str
    cheap_on_new_table: bool = False
    creates_table: bool = False
    empties_table: bool = False
    tableless: bool = False  # the job system only: it touches no database table


def _rows() -> tuple[Helper, ...]:
    h = Helper
    return (
        # background_scheduling: enqueues or dequeues work; a worker does it later
        h("backfill_conversion_of_integer_to_bigint", BG, 0, "queues the batched migration copying ids"),
        h("bulk_migrate_async", BG, None, "enqueues legacy background-migration jobs"),
        h("bulk_migrate_in", BG, None, "enqueues delayed legacy background-migration jobs"),
        h("bulk_queue_background_migration_jobs_by_range", BG, 0, "enqueues legacy jobs by id range"),
        h("cleanup_partitioning_data_migration", BG, 0, "removes tracking of a partition backfill's jobs"),
        h("delete_batched_background_migration", BG, 1, "deletes a batched background migration record"),
        h("delete_job_tracking", BG, None, "deletes tracking rows of finished legacy jobs"),
        h("delete_queued_jobs", BG, None, "removes a retired background migration's queued jobs"),
        h("enqueue_partitioning_data_migration", BG, 0, "queues jobs copying rows into a partitioned copy"),
        h("migrate_async", BG, None, "enqueues one legacy background-migration job"),
        h("migrate_in", BG, None, "enqueues one delayed legacy background-migration job"),
        h("prepare_async_check_constraint_validation", BG, 0, "asks the database workers to validate later"),
        h("prepare_async_foreign_key_validation", BG, 0, "asks the database workers to validate later"),
        h("prepare_async_index", BG, 0, "records an index for the database workers to build later"),
        h("prepare_async_index_from_sql", BG, None, "records an index for the database workers to build"),
        h("prepare_async_index_removal", BG, 0, "records an index for the database workers to drop later"),
        h("prepare_partitioned_async_foreign_key_validation", BG, 0, "async FK validation, per partition"),
        h("prepare_partitioned_async_index", BG, 0, "records per-partition indexes to build later"),
        h("queue_background_migration_jobs_by_range_at_intervals", BG, 0, "enqueues legacy jobs by id range"),
        h("queue_batched_background_migration", BG, 1, "records a batched background migration to run later"),
        h("queue_redis_migration_job", BG, None, "enqueues a Redis key migration job", tableless=True),
        h(
            "requeue_background_migration_jobs_by_range_at_intervals",
            BG,
            None,
            "re-enqueues pending legacy jobs (first argument: the job class, not a table)",
        ),
        h("revert_backfill_conversion_of_integer_to_bigint", BG, 0, "deletes the queued id-copy migration"),
        h("sidekiq_queue_migrate", BG, None, "moves queued jobs between Sidekiq queues", tableless=True),
        h("sidekiq_remove_jobs", BG, None, "removes a retired worker's queued jobs", tableless=True),
        h("unprepare_async_check_constraint_validation", BG, 0, "withdraws an async validation request"),
        h("unprepare_async_foreign_key_validation", BG, 0, "withdraws an async validation request"),
        h("unprepare_async_index", BG, 0, "withdraws an async index request"),
        h("unprepare_async_index_by_name", BG, 0, "withdraws an async index request"),
        h("unprepare_partitioned_async_foreign_key_validation", BG, 0, "withdraws async FK validations"),
        h("unprepare_partitioned_async_index", BG, 0, "withdraws async partitioned index requests"),
        h("unprepare_partitioned_async_index_by_name", BG, 0, "withdraws async partitioned index requests"),
        # index_and_constraint: builds or validates something that scans the table
        h("add_check_constraint", IDX, 0, "adds a check constraint and validates it (scan)", True),
        h("add_concurrent_foreign_key", IDX, 0, "adds a foreign key, then validates it (scan)", True),
        h("add_concurrent_index", IDX, 0, "builds an index concurrently (scan, cost grows with size)", True),
        h(
            "add_concurrent_partitioned_foreign_key",
            IDX,
            0,
            "adds and validates an FK on every partition",
            True,
        ),
        h("add_concurrent_partitioned_index", IDX, 0, "builds an index on every partition", True),
        h("add_foreign_key", IDX, 0, "adds and validates an FK while locking both tables", True),
        h(
            "add_multi_column_not_null_constraint",
            IDX,
            0,
            "adds a one-of-these-columns check and validates it (scan)",
            True,
        ),
        h("add_index", IDX, 0, "builds an index without CONCURRENTLY: blocks writes meanwhile", True),
        h("add_not_null_constraint", IDX, 0, "adds a NOT NULL check and validates it (scan)", True),
        h("add_text_limit", IDX, 0, "adds a length check and validates it (scan)", True),
        h(
            "copy_check_constraints",
            IDX,
            0,
            "re-creates and validates check constraints on a new column",
            True,
        ),
        h("copy_foreign_keys", IDX, 0, "re-creates and validates foreign keys on a new column", True),
        h("copy_indexes", IDX, 0, "builds copies of a column's indexes concurrently", True),
        h("prepare_constraint_for_list_partitioning", IDX, "table_name", "adds and validates a check", True),
        h("remove_concurrent_index", IDX, 0, "drops an index concurrently (waits for transactions)", True),
        h(
            "remove_concurrent_index_by_name",
            IDX,
            0,
            "drops an index concurrently (waits for transactions)",
            True,
        ),
        h("remove_concurrent_partitioned_index_by_name", IDX, 0, "drops an index on every partition", True),
        h("validate_check_constraint", IDX, 0, "validates a check constraint (full scan)", True),
        h("validate_foreign_key", IDX, 0, "validates a foreign key (full scan)", True),
        h("validate_partitioned_foreign_key", IDX, 0, "validates a foreign key on every partition (scans)"),
        h("validate_not_null_constraint", IDX, 0, "validates a NOT NULL check (full scan)", True),
        h("validate_text_limit", IDX, 0, "validates a length check (full scan)", True),
        # data_migration: writes rows inline
        h("add_widget_definitions", DATA, None, "upserts work item widget definition rows"),
        h("backfill_iids", DATA, 0, "rewrites every row's iid inline"),
        h("create_or_update_plan_limit", DATA, None, "upserts a plan_limits row"),
        h("down_migrate_to_jsonb_setting", DATA, None, "updates the application_settings row"),
        h("down_migrate_to_setting", DATA, None, "updates the application_settings row"),
        h(
            "ensure_backfill_conversion_of_integer_to_bigint_is_finished",
            DATA,
            0,
            "may run the id-copy batches inline",
        ),
        h("ensure_batched_background_migration_is_finished", DATA, "table_name", "may run batches inline"),
        h("finalize_background_migration", DATA, None, "runs a legacy background migration's rest inline"),
        h("finish_backfill_conversion_of_integer_to_bigint", DATA, 0, "runs the id-copy's rest inline"),
        h("finalize_backfilling_partitioned_table", DATA, 0, "copies missed rows into the partitioned copy"),
        h("finalize_batched_background_migration", DATA, "table_name", "runs remaining batches inline"),
        h("remove_widget_definitions", DATA, None, "deletes work item widget definition rows"),
        h("up_migrate_to_jsonb_setting", DATA, None, "copies a feature flag into application_settings"),
        h("up_migrate_to_setting", DATA, None, "copies a feature flag into application_settings"),
        h("update_column_in_batches", DATA, 0, "updates every row in batches inline"),
        # ddl_cleanup: DDL taking exclusive locks on existing tables
        h("add_cascading_namespace_setting", DDL, None, "adds cascading setting columns"),
        h("add_column", DDL, 0, "adds a column to an existing table (ACCESS EXCLUSIVE lock)", True),
        h("add_column_with_default", DDL_DATA, 0, "adds a column and backfills it inline", True),
        h("add_primary_key_using_index", DDL, 0, "swaps in a primary key (ACCESS EXCLUSIVE lock)"),
        h("add_reference", DDL, 0, "adds a reference column to an existing table", True),
        h("add_sequence", DDL, 0, "creates a sequence and sets it as a column default (lock)"),
        h("add_timestamps", DDL, 0, "adds timestamp columns to an existing table", True),
        h("add_timestamps_with_timezone", DDL, 0, "adds timestamp columns to an existing table", True),
        h("change_column", DDL, 0, "changes a column's type (may rewrite the table)"),
        h("change_column_default", DDL, 0, "changes a column default (ACCESS EXCLUSIVE lock)"),
        h("change_column_null", DDL, 0, "changes nullability (lock; scan when setting NOT NULL)"),
        h("change_column_type_concurrently", DDL_DATA, 0, "adds a column + trigger and copies rows inline"),
        h(
            "change_column_type_using_background_migration",
            DDL_BG,
            0,
            "adds a column + trigger, enqueues the copy jobs",
        ),
        h("cleanup_concurrent_column_rename", DDL, 0, "drops the old column and its sync triggers"),
        h("cleanup_concurrent_column_type_change", DDL, 0, "drops the old column and its sync triggers"),
        h("cleanup_conversion_of_integer_to_bigint", DDL, 0, "drops the integer columns and triggers"),
        h("convert_table_to_first_list_partition", DDL, "table_name", "turns a table into a partition"),
        h("create_comment", DDL, None, "COMMENT ON a database object (brief lock)"),
        h("create_extension", DDL, None, "creates a PostgreSQL extension"),
        h("create_hash_partitions", DDL, 0, "creates the hash partitions of a table"),
        h("create_trigger", DDL, 0, "creates a trigger (locks the table)"),
        h("create_trigger_function", DDL, None, "creates a trigger function"),
        h("create_trigger_to_sync_tables", DDL, 0, "installs sync trigger and function on a table"),
        h("drop_constraint", DDL, 0, "drops a constraint (ACCESS EXCLUSIVE lock)"),
        h("drop_extension", DDL, None, "drops a PostgreSQL extension"),
        h("drop_function", DDL, None, "drops a database function"),
        h("drop_nonpartitioned_archive_table", DDL, 0, "drops the archived table and its sync trigger"),
        h("drop_partitioned_table_for", DDL, 0, "drops the partitioned copy and its sync trigger"),
        h("drop_sequence", DDL, 0, "drops a sequence used by a column default"),
        h("drop_table", DDL, 0, "drops a table (ACCESS EXCLUSIVE lock)"),
        h("drop_trigger", DDL, 0, "drops a trigger (locks the table)"),
        h("ensure_unique_id", DDL, 0, "replaces the id default with a trigger (lock)"),
        h("finalize_table_rename", DDL, 0, "drops the view left by a table rename"),
        h("initialize_conversion_of_integer_to_bigint", DDL, 0, "adds bigint columns and sync triggers"),
        h("install_rename_triggers", DDL, 0, "installs column sync triggers on the table"),
        h("install_sharding_key_assignment_trigger", DDL, "table", "creates a sharding-key trigger"),
        h("lock_tables", DDL, EVERY, "takes explicit table locks (ACCESS EXCLUSIVE by default)"),
        h("partition_table_by_date", DDL, 0, "creates a partitioned copy and a sync trigger"),
        h("remove_check_constraint", DDL, 0, "drops a check constraint (ACCESS EXCLUSIVE lock)"),
        h("remove_cascading_namespace_setting", DDL, None, "drops cascading setting columns"),
        h("remove_column", DDL, 0, "drops a column (ACCESS EXCLUSIVE lock)"),
        h("remove_column_default", DDL, 0, "drops a column default (ACCESS EXCLUSIVE lock)"),
        h("remove_columns", DDL, 0, "drops columns (ACCESS EXCLUSIVE lock)"),
        h("remove_foreign_key", DDL, 0, "drops a foreign key (locks both tables)"),
        h("remove_foreign_key_if_exists", DDL, 0, "drops a foreign key (locks both tables)"),
        h("remove_foreign_key_without_error", DDL, 0, "drops a foreign key (locks both tables)"),
        h("remove_index", DDL, 0, "drops an index without CONCURRENTLY (blocks the table)"),
        h("remove_multi_column_not_null_constraint", DDL, 0, "drops a one-of-these-columns check (lock)"),
        h("remove_not_null_constraint", DDL, 0, "drops a NOT NULL check (ACCESS EXCLUSIVE lock)"),
        h("remove_reference", DDL, 0, "drops a reference column (ACCESS EXCLUSIVE lock)"),
        h("remove_rename_triggers", DDL, 0, "drops column sync triggers from the table"),
        h("remove_sharding_key_assignment_trigger", DDL, "table", "drops a sharding-key trigger"),
        h("remove_text_limit", DDL, 0, "drops a length check (ACCESS EXCLUSIVE lock)"),
        h("remove_timestamps", DDL, 0, "drops timestamp columns (ACCESS EXCLUSIVE lock)"),
        h("rename_column", DDL, 0, "renames a column (ACCESS EXCLUSIVE lock)"),
        h("rename_column_concurrently", DDL_DATA, 0, "adds a column + trigger and copies rows inline"),
        h(
            "rename_column_using_background_migration",
            DDL_BG,
            0,
            "adds a column + trigger, enqueues the copy jobs",
        ),
        h("rename_constraint", DDL, 0, "renames a constraint (lock)"),
        h("rename_index", DDL, 0, "renames an index (lock)"),
        h("rename_partitioned_foreign_key", DDL, 0, "renames an FK on a table and its partitions"),
        h("rename_partitioned_index", DDL, 0, "renames an index on a table and its partitions"),
        h("rename_table", DDL, 0, "renames a table (ACCESS EXCLUSIVE lock)"),
        h("rename_table_safely", DDL, 0, "renames a table behind a view (ACCESS EXCLUSIVE lock)"),
        h("replace_with_partitioned_table", DDL, 0, "swaps a table for its partitioned copy"),
        h("reset_trigger_function", DDL, None, "alters a trigger function"),
        h("restore_conversion_of_integer_to_bigint", DDL, 0, "restores integer columns and triggers"),
        h("revert_converting_table_to_first_list_partition", DDL, "table_name", "detaches the partition"),
        h("revert_initialize_conversion_of_integer_to_bigint", DDL, 0, "drops bigint columns and triggers"),
        h("revert_preparing_constraint_for_list_partitioning", DDL, "table_name", "drops the check"),
        h("rollback_replace_with_partitioned_table", DDL, 0, "swaps the archived table back"),
        h("swap_primary_key", DDL, 0, "swaps primary keys (ACCESS EXCLUSIVE lock)"),
        h("swap_columns", DDL, 0, "renames columns to swap them (ACCESS EXCLUSIVE lock)"),
        h("swap_columns_default", DDL, 0, "swaps column defaults (ACCESS EXCLUSIVE lock)"),
        h("swap_foreign_keys", DDL, 0, "renames foreign keys to swap them (lock)"),
        h("swap_indexes", DDL, 0, "renames indexes to swap them (lock)"),
        h("swap_partitioned_foreign_keys", DDL, 0, "swaps FK names on a table and its partitions"),
        h("swap_partitioned_indexes", DDL, 0, "swaps index names on a table and its partitions"),
        h("track_record_deletions", DDL, 0, "creates the loose-foreign-key deletion trigger"),
        h("truncate_tables!", DDL, EVERY, "truncates tables (ACCESS EXCLUSIVE lock)", empties_table=True),
        h("undo_change_column_type_concurrently", DDL, 0, "drops the new column and its triggers"),
        h("undo_cleanup_concurrent_column_rename", DDL_DATA, 0, "re-adds the old column, copies rows"),
        h("undo_cleanup_concurrent_column_type_change", DDL_DATA, 0, "re-adds the old column, copies rows"),
        h("undo_finalize_table_rename", DDL, 0, "re-creates the view of a renamed table"),
        h("undo_rename_column_concurrently", DDL, 0, "drops the new column and its triggers"),
        h("undo_rename_table_safely", DDL, 0, "renames a table back and drops its view"),
        h("unswap_primary_key", DDL, 0, "swaps primary keys back (ACCESS EXCLUSIVE lock)"),
        h("untrack_record_deletions", DDL, 0, "drops the loose-foreign-key deletion trigger"),
        # no nature by itself: a new table is empty; inline indexes/constraints and `force:` are read apart
        h("create_table", NONE, 0, "creates a new, empty table", creates_table=True),
    )


CATALOG: dict[str, Helper] = {row.name: row for row in _rows()}

# Calls that change nothing by themselves: blocks that only wrap other calls, logging, Ruby built-ins.
NEUTRAL_CALLS: frozenset[str] = frozenset(
    {
        "with_lock_retries", "disable_statement_timeout", "transaction", "say", "say_with_time", "puts",
        "raise", "format", "sleep", "lambda", "proc", "loop", "require", "require_relative", "include",
        "extend", "private", "connection", "reset_column_information", "p", "sanitize_sql",
        "sanitize_sql_array", "logger", "freeze", "attr_reader", "Integer", "String", "Array", "warn",
    }
)  # fmt: skip

_CATALOG_READS = "reads the database catalog or schema"
_NAMES = "computes a name or an SQL fragment"
_CHECKS = "checks a precondition, changes nothing"

# Look-ups: helpers of GitLab's migration helper modules (and Rails' schema statements) that only read the
# catalog, compute a name or check a precondition. They add no nature and never make a file `unknown`.
LOOKUPS: dict[str, str] = {
    **dict.fromkeys(
        (
            "async_constraint_validation_available?", "async_index_creation_available?",
            "check_constraint_exists?", "check_constraints", "check_constraints_for",
            "check_not_null_constraint_exists?", "check_text_limit_exists?", "column_exists?", "column_for",
            "column_is_nullable?", "columns", "current_schema", "data_source_exists?",
            "find_column_definition", "find_partitioned_table", "foreign_key_exists?", "foreign_keys",
            "foreign_keys_for",
            "function_exists?", "index_exists?", "index_exists_by_name?", "index_invalid?",
            "index_name_exists?", "indexes", "indexes_for", "partition?", "postgres_exists_by_name?",
            "primary_key", "primary_keys", "select_all", "select_one", "select_rows", "select_value",
            "select_values", "sequence_exists?", "table_exists?", "table_integer_ids", "table_partitioned?",
            "transaction_open?", "trigger_exists?", "view_exists?",
        ),
        _CATALOG_READS,
    ),
    **dict.fromkeys(
        (
            "bidirectional_trigger_names", "check_constraint_name", "concurrent_foreign_key_name",
            "concurrent_partitioned_foreign_key_name", "convert_to_bigint_column", "convert_to_type_column",
            "false_value", "function_name_for_trigger", "generated_index_name", "index_name",
            "make_archived_table_name", "make_partitioned_table_name", "missing_schema_object_message",
            "not_null_constraint_name", "object_name", "partitioned_table_name", "quote", "quote_column_name",
            "quote_table_name", "rename_trigger_name", "replace_sql", "text_limit_name", "tmp_table_name",
            "true_value",
        ),
        _NAMES,
    ),
    **dict.fromkeys(
        (
            "assert_not_in_transaction_block", "check_if_wraparound_in_progress",
            "check_trigger_permissions!", "com_or_dev_or_test_but_not_jh?", "gitlab_schema_from_context",
            "validate_check_constraint_name!",
            "validate_not_in_transaction!", "validate_timestamp_column_name!",
        ),
        _CHECKS,
    ),
    "define_batchable_model": "defines a model class for a table (no query)",
}  # fmt: skip

# Batched loops: by themselves they only read id ranges; their block decides (writes rows → data_migration,
# enqueues jobs → background_scheduling).
BATCH_LOOPS: frozenset[str] = frozenset(
    {"each_batch", "each_batch_range", "find_each", "find_in_batches", "in_batches"}
)

# Model (or relation) methods that write rows inline; the receiver names the table when it can.
MODEL_WRITES: frozenset[str] = frozenset(
    {
        "update_all", "delete_all", "destroy_all", "insert_all", "insert_all!", "upsert_all", "update_column",
        "update_columns", "destroy", "destroy!", "delete", "create", "create!", "save", "save!", "update",
        "update!", "find_or_create_by", "find_or_create_by!", "insert", "upsert", "increment!", "decrement!",
        "touch", "toggle!", "update_attribute", "delete_by", "destroy_by", "upsert_all!", "insert!",
    }
)  # fmt: skip

# Methods that only enqueue jobs (Sidekiq workers, legacy background migrations).
ENQUEUE_CALLS: frozenset[str] = frozenset(
    {"perform_async", "perform_in", "perform_at", "bulk_perform_async", "bulk_perform_in", "bulk_perform_at"}
)

# Calls made on a named receiver, `Receiver.method` → row.
QUALIFIED: dict[str, Helper] = {
    row.name: row
    for row in (
        Helper("Gitlab::BackgroundMigration.steal", DATA, None, "runs queued background jobs inline"),
        Helper(
            "Gitlab::Database::BackgroundMigration::BatchedMigrationRunner.run_entire_migration",
            DATA,
            None,
            "runs every batch of a batched background migration inline",
        ),
        Helper("Feature.enable", DATA, None, "writes feature_gates rows"),
        Helper("Feature.disable", DATA, None, "writes feature_gates rows"),
        Helper("Feature.remove", DATA, None, "deletes feature_gates rows"),
        Helper("Gitlab::Database::Partitioning.sync_partitions", DDL, None, "creates or drops partitions"),
        Helper(
            "Gitlab::Database::Partitioning.sync_partitions_ignore_db_error", DDL, None, "creates partitions"
        ),
        Helper("Gitlab::Database::LockWritesManager.lock_writes", DDL, None, "adds triggers refusing writes"),
        Helper(
            "Gitlab::Database::LockWritesManager.unlock_writes", DDL, None, "drops triggers refusing writes"
        ),
    )
}

# Receivers whose class methods read or compute only (not application code with side effects):
# the constant itself and everything below it, e.g. `Gitlab::Database::…`.
SAFE_RECEIVER_PREFIXES: frozenset[str] = frozenset(
    {
        "Gitlab::Database", "Gitlab::CurrentSettings", "Gitlab::Utils", "Gitlab::AppLogger", "Gitlab::Json",
        "Gitlab::Saas", "Gitlab::BackgroundMigration", "Rails", "Time", "Date", "DateTime", "ActiveRecord",
        "Arel", "JSON", "Digest", "SecureRandom", "Integer", "Float", "String", "Array", "Hash", "Set",
        "Struct", "Class", "Module", "Kernel", "Math", "ApplicationRecord", "MigrationRecord", "BigDecimal",
        "URI", "OpenStruct",
    }
)  # fmt: skip
# A job class below these runs a background migration's body where a command method is called on it
# (`Gitlab::BackgroundMigration::BackfillX.new.perform(1, 100)`): its writes happen inline.
INLINE_JOB_PREFIXES: tuple[str, ...] = ("Gitlab::BackgroundMigration::", "EE::Gitlab::BackgroundMigration::")
# Receivers safe as themselves only (`Gitlab.com?`), not for everything below them.
SAFE_RECEIVERS_EXACT: frozenset[str] = frozenset({"Gitlab"})

# Receiver roots that are the job system only: anything called on them is background scheduling.
JOB_SYSTEM_ROOTS: tuple[str, ...] = (
    "Sidekiq",
    "Gitlab::SidekiqConfig",
    "Gitlab::SidekiqMigrateJobs",
    "Gitlab::SidekiqSharding",
    "Gitlab::Redis",
)

# Receivers (by their text) that are caches outside the database: deleting there drops a key, not a row.
JOB_SYSTEM_RECEIVERS: tuple[str, ...] = ("Rails.cache",)

# Receiver roots that change files on disk: the effect is outside the database and unseen (`unknown`).
FILE_SYSTEM_ROOTS: frozenset[str] = frozenset({"FileUtils"})

# Relation methods that only read.
READ_METHODS: frozenset[str] = frozenset(
    {
        "where", "find", "find_by", "find_by!", "exists?", "pluck", "count", "first", "last", "select",
        "joins", "includes", "order", "limit", "not", "each", "map", "ids", "maximum", "minimum",
        "table_name", "connection", "arel_table", "none", "all", "distinct", "group", "having", "unscoped",
        "from",
        "reorder", "offset", "new", "to_s", "to_sym", "to_i", "minutes", "hours", "days", "weeks", "seconds",
        "minute", "hour", "day", "week", "second", "ago", "from_now", "freeze",
        "name", "present?", "blank?", "nil?", "any?", "empty?", "size", "length", "primary_key", "sum",
        "quote", "quote_table_name", "quote_column_name", "info", "warn", "error", "logger", "squish",
        "strip", "id", "pick", "sole", "take", "reset_column_information", "load",
        "transaction", "with_suppressed", "temporary_ignore_tables_in_transaction", "set", "merge",
        "join", "compact", "uniq", "tap", "then", "safe_constantize", "constantize", "each_slice",
        "with_index",
        "each_with_index", "to_a", "index_by", "group_by", "flat_map", "reject", "filter", "in_groups_of",
        "each_with_object", "sort_by", "push", "append", "concat", "to_sql", "min", "max", "to_h", "keys",
        "values", "fetch", "dig", "identifier", "pluck_primary_key", "in_groups", "zip",
    }
)  # fmt: skip

# Methods that run application code when called on an application constant (service objects, workers
# run inline). Calls on application constants through `.new(...)` count too; other calls there (model
# scopes such as `User.active`) are taken as reads.
COMMAND_METHODS: frozenset[str] = frozenset(
    {"execute", "call", "perform", "perform_now", "run", "process", "sync", "refresh", "rebuild", "import"}
)

SQL_METHODS: frozenset[str] = frozenset(
    {"execute", "exec_query", "exec_update", "exec_delete", "exec_insert"}
)
