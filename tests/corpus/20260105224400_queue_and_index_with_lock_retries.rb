# frozen_string_literal: true

class QueueAndIndexWithLockRetries < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    with_lock_retries do
      add_column :project_ci_cd_settings, :restrict_pipeline_cancellation_role, :integer, default: 0, null: false
    end

    queue_batched_background_migration('BackfillPipelineCancellationRole', :project_ci_cd_settings, :project_id)
  end

  def down
    # no-op
  end
end
