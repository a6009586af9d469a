# frozen_string_literal: true

class InstallShardingKeyTriggerAndTrackDeletions < Gitlab::Database::Migration[2.2]
  include Gitlab::Database::MigrationHelpers::LooseForeignKeyHelpers

  milestone '18.9'

  def up
    install_sharding_key_assignment_trigger(
      table: :merge_request_diff_files, sharding_key: :project_id,
      parent_table: :merge_request_diffs, parent_sharding_key: :project_id, foreign_key: :merge_request_diff_id
    )
    track_record_deletions(:merge_request_diffs)
  end

  def down
    untrack_record_deletions(:merge_request_diffs)
    remove_sharding_key_assignment_trigger(
      table: :merge_request_diff_files, sharding_key: :project_id,
      parent_table: :merge_request_diffs, parent_sharding_key: :project_id, foreign_key: :merge_request_diff_id
    )
  end
end
