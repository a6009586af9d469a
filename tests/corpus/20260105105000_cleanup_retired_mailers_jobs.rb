# frozen_string_literal: true

class CleanupRetiredMailersJobs < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    delete_queued_jobs('RetireOldMailers')
    delete_job_tracking('RetireOldMailers', status: 'succeeded')
  end

  def down
    # no-op
  end
end
