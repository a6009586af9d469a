# frozen_string_literal: true

class AddIndexOnMergeRequestsMergedAt < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  TABLE_NAME = :merge_requests
  INDEX_NAME = 'index_merge_requests_on_merged_at_merged'

  def up
    add_concurrent_index TABLE_NAME, :merged_at, where: 'state_id = 3', name: INDEX_NAME
  end

  def down
    remove_concurrent_index_by_name TABLE_NAME, INDEX_NAME
  end
end
