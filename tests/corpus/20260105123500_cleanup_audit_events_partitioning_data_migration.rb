# frozen_string_literal: true

class CleanupAuditEventsPartitioningDataMigration < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    cleanup_partitioning_data_migration :audit_events
  end

  def down
    # no-op
  end
end
