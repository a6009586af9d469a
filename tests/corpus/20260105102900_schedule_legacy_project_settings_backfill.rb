# frozen_string_literal: true

class ScheduleLegacyProjectSettingsBackfill < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  MIGRATION = "BackfillProjectSettings"

  def up
    queue_background_migration_jobs_by_range_at_intervals(
      define_batchable_model('projects'),
      MIGRATION,
      2.minutes,
      batch_size: 10_000,
      track_jobs: true
    )
  end

  def down
    # no-op
  end
end
