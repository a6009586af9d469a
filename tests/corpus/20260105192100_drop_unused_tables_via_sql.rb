# frozen_string_literal: true

class DropUnusedTablesViaSql < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    execute('DROP TABLE IF EXISTS legacy_ci_build_trace_chunks CASCADE')
    execute('ALTER TABLE ci_builds DROP COLUMN IF EXISTS legacy_stage')
    execute('TRUNCATE TABLE ci_tmp_pipeline_stats')
  end

  def down
    # no-op
  end
end
