# frozen_string_literal: true

class QueueRedisSessionKeysMigration < Gitlab::Database::Migration[2.2]
  milestone '18.8'

  def up
    queue_redis_migration_job('BackfillProjectPipelineStatusTtl')
  end

  def down
    # no-op
  end
end
