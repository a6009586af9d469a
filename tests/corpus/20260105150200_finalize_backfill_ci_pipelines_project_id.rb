# frozen_string_literal: true

class FinalizeBackfillCiPipelinesProjectId < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  MIGRATION = "BackfillCiPipelinesProjectId"

  def up
    finalize_batched_background_migration(
      job_class_name: MIGRATION, table_name: :ci_pipelines, column_name: :id, job_arguments: []
    )
  end

  def down
    # no-op
  end
end
