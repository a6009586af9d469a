# frozen_string_literal: true

class EnqueueWebHookLogsPartitionBackfill < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    enqueue_partitioning_data_migration :web_hook_logs
  end

  def down
    cleanup_partitioning_data_migration :web_hook_logs
  end
end
