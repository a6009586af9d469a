# frozen_string_literal: true

class DropWebHookLogsPartitionedCopy < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    drop_partitioned_table_for :web_hook_logs
    drop_nonpartitioned_archive_table :audit_events
  end

  def down
    partition_table_by_date :web_hook_logs, :created_at
  end
end
