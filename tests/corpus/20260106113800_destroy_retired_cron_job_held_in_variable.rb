# frozen_string_literal: true

class DestroyRetiredCronJobHeldInVariable < Gitlab::Database::Migration[2.2]
  milestone '18.9'

  def up
    job = Sidekiq::Cron::Job.find('schedule_migrate_external_diffs_worker')
    job.destroy if job

    stale = Sidekiq::Cron::Job.all.select { |cron| cron.name.start_with?('legacy_') }
    stale.each(&:destroy)
  end

  def down
    # no-op
  end
end
