# frozen_string_literal: true

class AnalyzeCiBuildsAfterCleanup < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    execute('ANALYZE ci_builds')
  end

  def down
    # no-op
  end
end
