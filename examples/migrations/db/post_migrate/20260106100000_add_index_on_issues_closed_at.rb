# frozen_string_literal: true

class AddIndexOnIssuesClosedAt < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!

  INDEX_NAME = 'index_issues_on_project_id_and_closed_at'

  def up
    add_concurrent_index :issues, [:project_id, :closed_at], name: INDEX_NAME
  end

  def down
    remove_concurrent_index_by_name :issues, INDEX_NAME
  end
end
