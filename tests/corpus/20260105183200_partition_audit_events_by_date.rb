# frozen_string_literal: true

class PartitionAuditEventsByDate < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    partition_table_by_date :audit_events, :created_at, min_date: Date.new(2025, 1), max_date: Date.new(2026, 6)
  end

  def down
    # no-op
  end
end
