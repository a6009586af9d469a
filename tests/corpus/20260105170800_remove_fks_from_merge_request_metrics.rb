# frozen_string_literal: true

class RemoveFksFromMergeRequestMetrics < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    with_lock_retries do
      remove_foreign_key_if_exists :merge_request_metrics, :users, column: :merged_by_id
    end
    remove_foreign_key :merge_request_metrics, column: :latest_closed_by_id
    remove_foreign_key_without_error :merge_request_metrics, column: :first_deployed_to_production_by_id
  end

  def down
    # no-op
  end
end
