# frozen_string_literal: true

class RequeueBackfillIssuesNamespaceId < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  MIGRATION = "BackfillIssuesNamespaceId"

  def up
    delete_batched_background_migration(MIGRATION, :issues, :id, [])

    queue_batched_background_migration(MIGRATION, :issues, :id, job_interval: 2.minutes, batch_size: 5_000)
  end

  def down
    # no-op
  end
end
