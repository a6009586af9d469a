# frozen_string_literal: true

class MixedFinalizeAndQueueNext < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_sec

  def up
    ensure_batched_background_migration_is_finished(
      job_class_name: 'BackfillVulnerabilityReadsClusterAgent',
      table_name: :vulnerability_reads, column_name: :id, job_arguments: []
    )
    queue_batched_background_migration('BackfillVulnerabilityReadsArchived', :vulnerability_reads, :id)
  end

  def down
    # no-op
  end
end
