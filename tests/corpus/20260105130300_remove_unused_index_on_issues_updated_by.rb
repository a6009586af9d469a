# frozen_string_literal: true

class RemoveUnusedIndexOnIssuesUpdatedBy < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  INDEX_NAME = 'index_issues_on_updated_by_id'

  def up
    remove_concurrent_index_by_name :issues, INDEX_NAME
  end

  def down
    add_concurrent_index :issues, :updated_by_id, name: INDEX_NAME
  end
end
