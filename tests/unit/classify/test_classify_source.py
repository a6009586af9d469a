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
    assert result.natures == [Nature.DDL_CLEANUP]
    assert result.created_tables == ["new_things"]
    assert result.resolution is not None and "created in this migration" in result.resolution
    cheap = [e for e in result.evidence if e.signal.startswith("add_concurrent_index")]
    assert cheap[0].nature is None and "cheap" in (cheap[0].note or "")


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
