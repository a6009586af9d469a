# frozen_string_literal: true

class MixedCleanupAndReindex < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  INDEX_NAME = 'index_merge_request_diffs_on_merge_request_id_and_id'

  def up
    remove_column :merge_request_diffs, :legacy_commits_count

    add_concurrent_index :merge_request_diffs, [:merge_request_id, :id], name: INDEX_NAME
  end

  def down
    # no-op
  end
end
