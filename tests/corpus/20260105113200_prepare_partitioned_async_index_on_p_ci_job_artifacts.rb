# frozen_string_literal: true

class PreparePartitionedAsyncIndexOnPCiJobArtifacts < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  INDEX_NAME = 'index_p_ci_job_artifacts_on_file_final_path'

  def up
    prepare_partitioned_async_index :p_ci_job_artifacts, :file_final_path, name: INDEX_NAME
    prepare_partitioned_async_foreign_key_validation :p_ci_job_artifacts, :project_id, name: 'fk_rails_c5137cb2c1'
  end

  def down
    unprepare_partitioned_async_index :p_ci_job_artifacts, :file_final_path, name: INDEX_NAME
    unprepare_partitioned_async_foreign_key_validation :p_ci_job_artifacts, :project_id, name: 'fk_rails_c5137cb2c1'
  end
end
