# frozen_string_literal: true

# pdm: nature=background_scheduling
# Reviewed by database maintainers: the table holds 300 rows.

class DeclaredBackgroundSchedulingOverride < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    add_concurrent_index :user_statuses, :clear_status_at, name: 'index_user_statuses_on_clear_status_at'
  end

  def down
    # no-op
  end
end
