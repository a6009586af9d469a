# frozen_string_literal: true

class ReindexCiJobArtifactsTmpIndex < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    execute('REINDEX INDEX CONCURRENTLY tmp_index_ci_job_artifacts_on_id')
  end

  def down
    # no-op
  end
end
