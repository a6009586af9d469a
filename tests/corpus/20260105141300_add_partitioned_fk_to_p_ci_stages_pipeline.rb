# frozen_string_literal: true

class AddPartitionedFkToPCiStagesPipeline < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    add_concurrent_partitioned_foreign_key :p_ci_stages, :p_ci_pipelines,
      column: [:partition_id, :pipeline_id], target_column: [:partition_id, :id], on_delete: :cascade
  end

  def down
    # no-op
  end
end
