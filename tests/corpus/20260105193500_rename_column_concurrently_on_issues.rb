# frozen_string_literal: true

class RenameColumnConcurrentlyOnIssues < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    rename_column_concurrently :issues, :closed_by_id, :closed_by_user_id
  end

  def down
    undo_rename_column_concurrently :issues, :closed_by_id, :closed_by_user_id
  end
end
