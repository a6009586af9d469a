# frozen_string_literal: true

class LockTablesBeforeRemovingCiFk < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  SOURCE = :ci_build_trace_metadata
  TARGET = :ci_job_artifacts

  def up
    with_lock_retries do
      lock_tables(TARGET, SOURCE)

      remove_foreign_key_if_exists(SOURCE, TARGET, name: 'fk_21d25cac1a')
    end
  end

  def down
    add_concurrent_foreign_key(SOURCE, TARGET, column: :trace_artifact_id, on_delete: :cascade)
  end
end
