# frozen_string_literal: true

class RemovePartitionedIndexOnPCiJobArtifactsExpireAt < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    remove_concurrent_partitioned_index_by_name :p_ci_job_artifacts, 'index_p_ci_job_artifacts_on_expire_at_old'
  end

  def down
    # no-op
  end
end
