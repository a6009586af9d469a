# frozen_string_literal: true

class ExecuteDynamicSqlFromHelperMethod < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    execute(build_cleanup_sql(:ci_sources_pipelines))
  end

  def down
    # no-op
  end
end
