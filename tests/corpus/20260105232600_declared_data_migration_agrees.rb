# frozen_string_literal: true

# pdm: nature=data_migration

class DeclaredDataMigrationAgrees < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    execute('UPDATE plan_limits SET ci_pipeline_size = 0')
  end

  def down
    # no-op
  end
end
