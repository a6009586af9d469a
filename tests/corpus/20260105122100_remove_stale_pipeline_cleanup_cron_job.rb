# frozen_string_literal: true

class RemoveStalePipelineCleanupCronJob < Gitlab::Database::Migration[2.2]
  milestone '18.8'

  def up
    Sidekiq::Cron::Job.find('ci_stale_pipeline_cleanup_worker')&.destroy
  end

  def down
    # no-op
  end
end
