# frozen_string_literal: true

class CleanupTypeChangeOfCiStagesPosition < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    cleanup_concurrent_column_type_change :ci_stages, :position
  end

  def down
    undo_cleanup_concurrent_column_type_change :ci_stages, :position, :integer
  end
end
