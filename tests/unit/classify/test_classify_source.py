"""Behaviour of classify_source: what counts, modifiers, declarations, evidence and resolution."""

from __future__ import annotations

from textwrap import dedent

from scheduler.classify import classify_source
from scheduler.classify.model import Classification, Confidence, Database, SizeClass
from scheduler.natures import Nature

PATH = "db/post_migrate/20260105101500_add_index_on_ci_builds_project_id.rb"


def classify(body: str, *, head: str = "", class_level: str = "", **kwargs: object) -> Classification:
    source = (
        f"{head}\nclass AddIndex < Gitlab::Database::Migration[2.2]\n{dedent(class_level)}\n"
        f"  def up\n{dedent(body)}\n  end\n\n  def down\n    remove_column :issues, :x\n  end\nend\n"
    )
    return classify_source(source.encode(), PATH, **kwargs)  # type: ignore[arg-type]


def test_version_and_name_come_from_the_file_name() -> None:
    result = classify("add_concurrent_index :ci_builds, :project_id")
    assert (result.version, result.name) == ("20260105101500", "add_index_on_ci_builds_project_id")


def test_a_helper_in_down_does_not_count_for_up() -> None:
    result = classify("")
    assert result.natures == [Nature.NO_OP]
    assert result.resolution is not None and "remove_column" in result.resolution


def test_a_no_op_and_job_system_work_touch_no_table_where_no_table_found_proves_nothing() -> None:
    no_op = classify("    # no-op: the backfill was removed")
    assert no_op.primary_nature is Nature.NO_OP and no_op.tables == []
    assert no_op.touches_no_table and no_op.tables_known
    purge = classify(
        """
        Gitlab::SidekiqSharding::Validator.allow_unrouted_sidekiq_calls do
          entry = Sidekiq::Cron::Job.find('retired_cron_worker')
          entry.destroy if entry
        end
        sidekiq_remove_jobs(job_klasses: %w[RetiredWorker])
        sidekiq_queue_migrate 'retired_queue', to: 'default'
        """
    )
    assert purge.primary_nature is Nature.BACKGROUND_SCHEDULING and purge.tables == []
    assert purge.touches_no_table and purge.tables_known
    legacy = classify("    migrate_async('BackfillSomething', [1, 100])")  # its job touches unseen tables
    assert legacy.primary_nature is Nature.BACKGROUND_SCHEDULING and legacy.tables == []
    assert not legacy.touches_no_table and not legacy.tables_known
    both = classify("    sidekiq_remove_jobs(job_klasses: %w[W])\n    migrate_async('Backfill', [1])")
    assert not both.touches_no_table
    declared = classify("    sidekiq_remove_jobs(job_klasses: %w[W])", head="# pdm: nature=ddl_cleanup")
    assert declared.primary_nature is Nature.DDL_CLEANUP and not declared.touches_no_table
    queue = classify("    queue_batched_background_migration('Backfill', :issues, :id)")
    assert queue.tables_known and not queue.touches_no_table


def test_natures_are_listed_most_restrictive_first_and_primary_is_the_first() -> None:
    result = classify(
        """
        queue_batched_background_migration('Backfill', :issues, :id)
        add_concurrent_index :issues, :x
        remove_column :issues, :y
        """
    )
    assert result.natures == [Nature.DDL_CLEANUP, Nature.INDEX_AND_CONSTRAINT, Nature.BACKGROUND_SCHEDULING]
    assert result.primary_nature is Nature.DDL_CLEANUP
    assert result.resolution is not None and result.resolution.startswith("ddl_cleanup (remove_column, line")


def test_evidence_carries_line_numbers_signals_and_natures() -> None:
    result = classify("    add_concurrent_index :ci_builds, :project_id")
    (evidence,) = [e for e in result.evidence if e.nature is not None]
    assert (evidence.line, evidence.signal, evidence.nature) == (
        5,
        "add_concurrent_index(ci_builds)",
        Nature.INDEX_AND_CONSTRAINT,
    )


def test_constants_resolve_to_table_names() -> None:
    result = classify("add_concurrent_index TABLE_NAME, :x", class_level="  TABLE_NAME = :merge_requests")
    assert result.tables == ["merge_requests"]


def test_conditional_helpers_count_with_medium_confidence() -> None:
    result = classify("remove_column :users, :x if column_exists?(:users, :x)")
    assert result.primary_nature is Nature.DDL_CLEANUP
    assert result.confidence is Confidence.MEDIUM
    assert any("conditional" in (e.note or "") for e in result.evidence)


def test_early_return_makes_later_signals_conditional() -> None:
    result = classify("return unless Gitlab.com?\nadd_concurrent_index :issues, :x")
    assert result.primary_nature is Nature.INDEX_AND_CONSTRAINT
    assert result.confidence is Confidence.MEDIUM


def test_helpers_inside_with_lock_retries_count_and_set_the_modifier() -> None:
    result = classify("with_lock_retries do\n  remove_foreign_key_if_exists :a, :b\nend")
    assert result.primary_nature is Nature.DDL_CLEANUP
    assert result.lock_retries is True
    assert any("with_lock_retries" in (e.note or "") for e in result.evidence if e.nature)


def test_index_on_a_table_created_in_the_same_migration_is_cheap() -> None:
    result = classify(
        "create_table :new_things do |t|\n  t.bigint :x\nend\nadd_concurrent_index :new_things, :x"
    )
    assert result.natures == [Nature.INDEX_AND_CONSTRAINT]
    assert result.created_tables == ["new_things"]
    assert result.resolution is not None and "created or truncated in this migration" in result.resolution
    cheap = [e for e in result.evidence if e.signal.startswith("add_concurrent_index")]
    assert cheap[0].nature is Nature.INDEX_AND_CONSTRAINT and "cheap" in (cheap[0].note or "")


def test_heredoc_sql_is_paired_with_its_execute_call() -> None:
    result = classify('execute <<~SQL\n  UPDATE issues SET x = 1\nSQL\nexecute "ANALYZE issues"')
    kinds = [(e.signal, e.nature) for e in result.evidence if e.nature]
    assert kinds == [("SQL UPDATE(issues)", Nature.DATA_MIGRATION), ("SQL ANALYZE", Nature.UNKNOWN)]


def test_sql_held_in_a_local_variable_is_followed() -> None:
    result = classify("sql = 'TRUNCATE ci_tmp'\nconnection.execute(sql)")
    assert result.primary_nature is Nature.DDL_CLEANUP


def test_sql_built_at_run_time_is_unknown_with_low_confidence() -> None:
    result = classify("execute(build_sql)")
    assert result.primary_nature is Nature.UNKNOWN
    assert result.confidence is Confidence.LOW


def test_batched_model_writes_are_data_migrations_on_the_model_table() -> None:
    result = classify(
        "define_batchable_model('deploy_tokens').each_batch do |batch|\n  batch.delete_all\nend"
    )
    assert result.natures == [Nature.DATA_MIGRATION]
    assert result.tables == ["deploy_tokens"]


def test_service_objects_are_application_code_and_unknown() -> None:
    assert classify("Users::RefreshService.new(1).execute").primary_nature is Nature.UNKNOWN


def test_sidekiq_cron_removal_is_background_scheduling() -> None:
    result = classify("Sidekiq::Cron::Job.find('old_worker')&.destroy")
    assert result.natures == [Nature.BACKGROUND_SCHEDULING]


def test_class_methods_called_from_up_are_followed() -> None:
    source = dedent(
        """
        class X < Gitlab::Database::Migration[2.2]
          def up
            drop_old
          end

          def drop_old
            drop_table :old_things
          end

          def unused
            add_concurrent_index :issues, :x
          end
        end
        """
    ).encode()
    result = classify_source(source, "1_x.rb")
    assert result.natures == [Nature.DDL_CLEANUP]


def test_change_is_walked_like_up() -> None:
    source = b"class X < ActiveRecord::Migration[7.0]\n  def change\n    add_index :a, :b\n  end\nend\n"
    assert classify_source(source, "1_x.rb").primary_nature is Nature.INDEX_AND_CONSTRAINT


def test_class_level_modifiers_are_reported() -> None:
    result = classify(
        "add_concurrent_index :ci_builds, :x",
        class_level="""
          milestone '18.8'
          disable_ddl_transaction!
          enable_lock_retries!
          restrict_gitlab_migration gitlab_schema: :gitlab_ci
        """,
    )
    assert (result.milestone, result.disable_ddl_transaction, result.lock_retries) == ("18.8", True, True)
    assert (result.database, result.database_assumed) == (Database.CI, False)


def test_database_mapping_from_gitlab_schema() -> None:
    def database(schema: str) -> tuple[Database, bool]:
        result = classify("", class_level=f"  restrict_gitlab_migration gitlab_schema: :{schema}")
        return result.database, result.database_assumed

    assert database("gitlab_sec") == (Database.SEC, False)
    assert database("gitlab_main_cell") == (Database.MAIN, False)
    assert database("gitlab_shared") == (Database.MAIN, True)
    assert (classify("").database, classify("").database_assumed) == (Database.MAIN, True)


def test_known_table_sizes_are_attached_to_touched_tables() -> None:
    result = classify(
        "add_concurrent_index :ci_builds, :x\nadd_concurrent_index :tiny, :x",
        table_sizes={"ci_builds": SizeClass.OVER_LIMIT, "unrelated": SizeClass.SMALL},
    )
    assert result.table_sizes == {"ci_builds": SizeClass.OVER_LIMIT}
    assert result.largest_size is SizeClass.OVER_LIMIT


def test_a_valid_declaration_wins_and_is_reported_as_declared() -> None:
    result = classify("add_concurrent_index :issues, :x", head="# pdm: nature=background_scheduling")
    assert result.primary_nature is Nature.BACKGROUND_SCHEDULING
    assert result.declared is True and result.error is None
    assert Nature.INDEX_AND_CONSTRAINT in result.natures
    assert result.resolution is not None and "overrides inferred index_and_constraint" in result.resolution


def test_an_invalid_declaration_is_an_error_and_unknown() -> None:
    result = classify("add_concurrent_index :issues, :x", head="# pdm: nature=cheap")
    assert result.primary_nature is Nature.UNKNOWN
    assert result.declared is False
    assert result.error is not None and "'cheap'" in result.error and "no_op" in result.error


def test_a_declaration_with_an_empty_value_is_invalid() -> None:
    result = classify("", head="# pdm: nature=")
    assert result.primary_nature is Nature.UNKNOWN and result.error is not None


def test_a_requeued_job_class_is_not_reported_as_a_table() -> None:
    result = classify("requeue_background_migration_jobs_by_range_at_intervals('CopyDiffCommits', 5.minutes)")
    assert result.primary_nature == Nature.BACKGROUND_SCHEDULING
    assert result.tables == []


def test_sql_lock_table_is_ddl_on_every_locked_table() -> None:
    result = classify("execute('LOCK TABLE ci_builds, ci_pipelines IN ACCESS EXCLUSIVE MODE')")
    assert result.primary_nature is Nature.DDL_CLEANUP
    assert result.tables == ["ci_builds", "ci_pipelines"]


def test_lock_tables_helper_is_ddl() -> None:
    assert classify("lock_tables(:issues, :notes, mode: :share)").tables == ["issues", "notes"]
    assert classify("lock_tables(:issues)").primary_nature is Nature.DDL_CLEANUP


def test_catalog_look_ups_add_no_nature_and_are_not_unknown() -> None:
    result = classify(
        "name = concurrent_foreign_key_name(:issues, :author_id)\n"
        "validate_foreign_key(:issues, :author_id, name: name) if foreign_key_exists?(:issues, name: name)"
    )
    assert result.natures == [Nature.INDEX_AND_CONSTRAINT]


def test_an_unlisted_call_used_only_as_an_argument_is_a_look_up_in_the_evidence() -> None:
    result = classify("remove_concurrent_index_by_name :notes, legacy_index_name(:notes)")
    assert result.natures == [Nature.INDEX_AND_CONSTRAINT]
    (look_up,) = [e for e in result.evidence if e.signal == "legacy_index_name"]
    assert look_up.nature is None and "look-up" in (look_up.note or "")


def test_an_unlisted_call_made_for_its_effect_is_unknown_and_named() -> None:
    result = classify("rebuild_counters(:projects)")
    (evidence,) = [e for e in result.evidence if e.nature is Nature.UNKNOWN]
    assert evidence.signal == "rebuild_counters" and "unrecognised helper" in (evidence.note or "")


def test_a_bang_call_used_as_a_condition_is_still_unknown() -> None:
    assert classify("say 'done' if purge_orphans!(:notes)").primary_nature is Nature.UNKNOWN


def test_each_batch_that_only_reads_ranges_to_enqueue_is_background_scheduling() -> None:
    result = classify(
        "define_batchable_model('events').each_batch(of: 100) do |batch, index|\n"
        "  ids = batch.pluck(:id)\n  migrate_in(index * 2.minutes, 'Job', [ids.first, ids.last])\nend"
    )
    assert result.natures == [Nature.BACKGROUND_SCHEDULING]
    loop = next(e for e in result.evidence if e.signal.startswith(".each_batch"))
    assert loop.nature is None and loop.signal == ".each_batch(events)"


def test_an_unknown_call_on_rows_in_a_batched_loop_counts_as_a_write() -> None:
    result = classify("Project.find_each { |project| project.refresh_cache! }")
    assert result.primary_nature is Nature.DATA_MIGRATION


def test_destroy_on_a_cron_job_held_in_a_variable_is_background_scheduling() -> None:
    result = classify("job = Sidekiq::Cron::Job.find('old')\njob.destroy if job")
    assert result.natures == [Nature.BACKGROUND_SCHEDULING]


def test_deleting_redis_keys_yielded_by_a_redis_block_is_background_scheduling() -> None:
    result = classify("Gitlab::Redis::SharedState.with { |redis| redis.del('lease:x') }")
    assert result.natures == [Nature.BACKGROUND_SCHEDULING]


def test_a_new_table_alone_is_no_op_and_its_inline_indexes_are_cheap_index_work() -> None:
    plain = classify("create_table :things do |t|\n  t.bigint :x, null: false\nend")
    assert plain.natures == [Nature.NO_OP] and plain.created_tables == ["things"]
    indexed = classify("create_table :things do |t|\n  t.bigint :x, index: true\n  t.index :x\nend")
    assert indexed.natures == [Nature.INDEX_AND_CONSTRAINT]
    assert all("cheap" in (e.note or "") for e in indexed.evidence if e.nature)


def test_create_table_with_force_drops_an_existing_table() -> None:
    assert classify("create_table :things, force: :cascade do |t|\nend").primary_nature is Nature.DDL_CLEANUP


def test_add_column_on_a_new_table_is_part_of_building_it() -> None:
    result = classify("create_table :things\nadd_column :things, :y, :text\nadd_text_limit :things, :y, 10")
    assert result.natures == [Nature.INDEX_AND_CONSTRAINT]


def test_index_on_a_truncated_table_is_cheap_but_the_truncate_is_ddl() -> None:
    result = classify("execute 'TRUNCATE tmp_things'\nadd_concurrent_index :tmp_things, :x")
    assert result.natures == [Nature.DDL_CLEANUP, Nature.INDEX_AND_CONSTRAINT]
    index = next(e for e in result.evidence if e.signal.startswith("add_concurrent_index"))
    assert "cheap" in (index.note or "")
