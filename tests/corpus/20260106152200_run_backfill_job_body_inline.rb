# frozen_string_literal: true

class RunBackfillJobBodyInline < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    return unless Gitlab.com?

    first, last = 1, 5_000
    Gitlab::BackgroundMigration::BackfillWorkItemTypeIds.new(
      start_id: first, end_id: last, batch_table: :issues, batch_column: :id,
      sub_batch_size: 100, pause_ms: 0, connection: connection
    ).perform
  end

  def down
    # no-op
  end
end
