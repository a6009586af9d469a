# frozen_string_literal: true

class UnprepareAsyncIndexAndValidationsOnIssues < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    unprepare_async_index_by_name :issues, 'index_issues_on_obsolete_column'
    unprepare_async_foreign_key_validation :issues, :moved_to_id
    unprepare_async_check_constraint_validation :issues, name: 'check_fba63f706d'
    unprepare_async_index :issues, :external_key, name: 'index_issues_on_external_key'
  end

  def down
    # no-op
  end
end
