# frozen_string_literal: true

class BackfillNamespaceSettingsDefaultBranchInline < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    update_column_in_batches(:namespace_settings, :default_branch_protection, 2) do |table, query|
      query.where(table[:default_branch_protection].eq(nil))
    end
  end

  def down
    # no-op
  end
end
