# frozen_string_literal: true

class RequeuePendingMergeRequestDiffJobs < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  MIGRATION = "CopyMergeRequestDiffCommits"

  def up
    requeue_background_migration_jobs_by_range_at_intervals(MIGRATION, 5.minutes)
  end

  def down
    # no-op
  end
end
