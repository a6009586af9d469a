# frozen_string_literal: true

class DropTriggerAfterSchemaLookups < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!

  TABLE = :merge_request_diff_commits
  TRIGGER = 'trigger_merge_request_diff_commits_sync'

  def up
    assert_not_in_transaction_block(scope: 'trigger cleanup')
    check_trigger_permissions!(TABLE)
    check_if_wraparound_in_progress(TABLE)
    validate_not_in_transaction!(:drop_trigger)
    return unless com_or_dev_or_test_but_not_jh? || gitlab_schema_from_context == :gitlab_main
    return unless trigger_exists?(TABLE, TRIGGER) && function_exists?(function_name_for_trigger(TRIGGER))
    return if view_exists?(:postgres_partitions) && !data_source_exists?(TABLE)
    return if sequence_exists?(:merge_request_diff_commits_id_seq) || transaction_open?

    sync_columns = columns(TABLE).map(&:name) & indexes(TABLE).flat_map(&:columns)
    say "keeping #{sync_columns.size} columns; primary key #{primary_key(TABLE)} #{primary_keys(TABLE).inspect}"
    say "#{foreign_keys(TABLE).size} foreign keys, #{check_constraints(TABLE).size} checks"
    say bidirectional_trigger_names(TABLE, :sha, :sha_bytes).join(', ')

    drop_trigger(TABLE, TRIGGER)
  end

  def down
    # no-op
  end
end
