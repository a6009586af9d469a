# frozen_string_literal: true

class SyncPartitionsForNewLooseFkTable < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    Gitlab::Database::Partitioning.sync_partitions_ignore_db_error
  end

  def down
    # no-op
  end
end
