# frozen_string_literal: true

class AddPrimaryKeyUsingIndexToCiPipelineVariables < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    add_primary_key_using_index :ci_pipeline_variables, :ci_pipeline_variables_pkey, :index_ci_pipeline_variables_on_id_new
  end

  def down
    # no-op
  end
end
