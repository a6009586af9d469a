# frozen_string_literal: true

class ConvertCiRunnerMachinesToListPartition < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    convert_table_to_first_list_partition(
      table_name: :ci_runner_machines, partitioning_column: :runner_type,
      parent_table_name: :p_ci_runner_machines, initial_partitioning_value: 1
    )
  end

  def down
    revert_converting_table_to_first_list_partition(
      table_name: :ci_runner_machines, partitioning_column: :runner_type,
      parent_table_name: :p_ci_runner_machines, initial_partitioning_value: 1
    )
  end
end
