# frozen_string_literal: true

class QueueBackfillProjectSettingsTopics < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  MIGRATION = 'BackfillProjectSettingsTopics'
  DELAY_INTERVAL = 2.minutes
  BATCH_SIZE = 5_000
  SUB_BATCH_SIZE = 250

  def up
    queue_batched_background_migration(
      MIGRATION,
      :project_settings,
      :project_id,
      job_interval: DELAY_INTERVAL,
      batch_size: BATCH_SIZE,
      sub_batch_size: SUB_BATCH_SIZE
    )
  end

  def down
    delete_batched_background_migration(MIGRATION, :project_settings, :project_id, [])
  end
end
