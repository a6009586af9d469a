# frozen_string_literal: true

class CreatePartitionsForPCiFinishedBuilds < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    Gitlab::Database::Partitioning.sync_partitions
  end

  def down
    # no-op
  end
end
