# frozen_string_literal: true

class WithLockRetriesEnabledClassWide < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  enable_lock_retries!

  def up
    remove_foreign_key_if_exists :ci_runner_projects, :projects
  end

  def down
    # no-op
  end
end
