# frozen_string_literal: true

class IfUnlessAroundCleanupHelpers < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    if column_exists?(:users, :legacy_email_opted_in)
      remove_column :users, :legacy_email_opted_in
    end

    add_concurrent_index :users, :email_opted_in_at unless index_exists?(:users, :email_opted_in_at)
  end

  def down
    # no-op
  end
end
