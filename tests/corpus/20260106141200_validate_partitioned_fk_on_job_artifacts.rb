# frozen_string_literal: true

class ValidatePartitionedFkOnJobArtifacts < Gitlab::Database::Migration[2.3]
  include Gitlab::Database::PartitioningMigrationHelpers

  milestone '18.9'
  disable_ddl_transaction!

  def up
    validate_partitioned_foreign_key :p_ci_job_artifacts, [:partition_id, :job_id], name: :fk_artifacts_job_p
  end

  def down
    # no-op
  end
end
