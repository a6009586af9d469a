# frozen_string_literal: true

# pdm: nature=heavy_index

class DeclaredInvalidNature < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    add_concurrent_index :audit_events, :author_id
  end

  def down
    # no-op
  end
end
