# frozen_string_literal: true

class NoopAfterRevertOfBackfillWorkItems < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    # no-op: the backfill was reverted in 18.7
  end

  def down
    # no-op
  end
end
