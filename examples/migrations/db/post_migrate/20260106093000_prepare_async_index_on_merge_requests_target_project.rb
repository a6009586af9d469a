# frozen_string_literal: true

class PrepareAsyncIndexOnMergeRequestsTargetProject < Gitlab::Database::Migration[2.2]
  milestone '18.8'

  INDEX_NAME = 'index_merge_requests_on_target_project_id_and_merged_at'

  def up
    prepare_async_index :merge_requests, [:target_project_id, :merged_at], name: INDEX_NAME
  end

  def down
    unprepare_async_index :merge_requests, INDEX_NAME
  end
end
