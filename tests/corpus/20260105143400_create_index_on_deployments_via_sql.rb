# frozen_string_literal: true

class CreateIndexOnDeploymentsViaSql < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    execute <<~SQL
      CREATE INDEX CONCURRENTLY IF NOT EXISTS index_deployments_on_environment_id_and_ref
      ON deployments (environment_id, ref)
    SQL
  end

  def down
    execute 'DROP INDEX CONCURRENTLY IF EXISTS index_deployments_on_environment_id_and_ref'
  end
end
