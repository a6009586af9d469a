# frozen_string_literal: true

class AddIndexOnCiBuildsProjectIdAndStatus < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  INDEX_NAME = 'index_ci_builds_on_project_id_and_status'

  def up
    add_concurrent_index :ci_builds, [:project_id, :status], name: INDEX_NAME
  end

  def down
    remove_concurrent_index_by_name :ci_builds, INDEX_NAME
  end
end
