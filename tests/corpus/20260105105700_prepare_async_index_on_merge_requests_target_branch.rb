# frozen_string_literal: true

class PrepareAsyncIndexOnMergeRequestsTargetBranch < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  INDEX_NAME = 'index_merge_requests_on_target_project_id_and_target_branch'

  def up
    prepare_async_index :merge_requests, [:target_project_id, :target_branch], name: INDEX_NAME
  end

  def down
    unprepare_async_index :merge_requests, [:target_project_id, :target_branch], name: INDEX_NAME
  end
end
