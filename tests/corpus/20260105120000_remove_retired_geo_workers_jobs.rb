# frozen_string_literal: true

class RemoveRetiredGeoWorkersJobs < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  DEPRECATED_JOB_CLASSES = %w[Geo::RepositorySyncWorker Geo::LegacyCleanupWorker].freeze

  def up
    sidekiq_remove_jobs(job_klasses: DEPRECATED_JOB_CLASSES)
  end

  def down
    # no-op
  end
end
