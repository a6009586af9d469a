# frozen_string_literal: true

class QueueAndRunBatchedMigrationInline < Gitlab::Database::Migration[2.1]
  MIGRATION = 'BackfillSnippetOrganizationId'

  restrict_gitlab_migration gitlab_schema: :gitlab_main
  disable_ddl_transaction!

  def up
    migration = queue_batched_background_migration(MIGRATION, :snippets, :id, batch_size: 500)

    # small table on every instance: run all batches now instead of waiting for the scheduler
    Gitlab::Database::BackgroundMigration::BatchedMigrationRunner.new.run_entire_migration(migration)
  end

  def down
    delete_batched_background_migration(MIGRATION, :snippets, :id, [])
  end
end
