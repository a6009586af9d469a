# frozen_string_literal: true

class TruncateCiTmpTables < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    truncate_tables!('ci_tmp_build_traces', 'ci_tmp_build_logs')
  end

  def down
    # no-op
  end
end
