# frozen_string_literal: true

class CopyIndexOfPartitionsWithDefinitionLookups < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  TABLE = :p_ci_pipeline_variables
  INDEX = :index_p_ci_pipeline_variables_on_project_id

  def up
    return unless table_partitioned?(TABLE)

    Gitlab::Database::PostgresPartitionedTable.each_partition(TABLE) do |partition|
      next if partition?(partition.identifier) && !postgres_exists_by_name?(partition.name, INDEX)

      say "partition #{object_name(partition.name, 'index')} of #{tmp_table_name(TABLE.to_s)}"
    end

    add_concurrent_partitioned_index TABLE, :project_id, name: INDEX
  end

  def down
    remove_concurrent_partitioned_index_by_name TABLE, INDEX
  end
end
