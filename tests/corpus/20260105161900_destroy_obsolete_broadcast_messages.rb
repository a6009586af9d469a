# frozen_string_literal: true

class DestroyObsoleteBroadcastMessages < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  class BroadcastMessage < MigrationRecord
    self.table_name = 'broadcast_messages'
  end

  def up
    BroadcastMessage.where('ends_at < ?', 1.year.ago).find_each(&:destroy)
  end

  def down
    # no-op
  end
end
