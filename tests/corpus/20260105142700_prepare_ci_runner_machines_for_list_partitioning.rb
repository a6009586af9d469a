# frozen_string_literal: true

class PrepareCiRunnerMachinesForListPartitioning < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    prepare_constraint_for_list_partitioning(
      table_name: :ci_runner_machines, partitioning_column: :runner_type,
      parent_table_name: :p_ci_runner_machines, initial_partitioning_value: 1
    )
  end

  def down
    revert_preparing_constraint_for_list_partitioning(
      table_name: :ci_runner_machines, partitioning_column: :runner_type,
      parent_table_name: :p_ci_runner_machines, initial_partitioning_value: 1
    )
  end
end
