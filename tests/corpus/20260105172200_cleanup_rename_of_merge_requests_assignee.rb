# frozen_string_literal: true

class CleanupRenameOfMergeRequestsAssignee < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    cleanup_concurrent_column_rename :merge_requests, :assignee_id, :legacy_assignee_id
  end

  def down
    undo_cleanup_concurrent_column_rename :merge_requests, :assignee_id, :legacy_assignee_id
  end
end
