# frozen_string_literal: true

class AddPartitionedIndexOnPCiBuildsMetadata < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  INDEX_NAME = 'index_p_ci_builds_metadata_on_runner_machine_id'

  def up
    add_concurrent_partitioned_index :p_ci_builds_metadata, :runner_machine_id, name: INDEX_NAME
  end

  def down
    remove_concurrent_partitioned_index_by_name :p_ci_builds_metadata, INDEX_NAME
  end
end
