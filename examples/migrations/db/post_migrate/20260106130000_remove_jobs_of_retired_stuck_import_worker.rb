# frozen_string_literal: true

class RemoveJobsOfRetiredStuckImportWorker < Gitlab::Database::Migration[2.2]
  milestone '18.8'

  DEPRECATED_JOB_CLASSES = %w[Gitlab::Import::StuckImportJob].freeze

  def up
    sidekiq_remove_jobs(job_klasses: DEPRECATED_JOB_CLASSES)
  end

  def down; end
end
