# frozen_string_literal: true

class DeleteRetiredRedisKeysAndQueuedJobs < Gitlab::Database::Migration[2.2]
  milestone '18.9'

  KEY_PATTERN = 'gitlab:exclusive_lease:legacy_project_cache_worker:*'

  def up
    Gitlab::Redis::SharedState.with do |redis|
      redis.scan_each(match: KEY_PATTERN).each_slice(1_000) { |keys| redis.del(*keys) }
    end

    Sidekiq::Queue.new('default').each do |queued|
      queued.delete if queued.klass == 'LegacyProjectCacheWorker'
    end

    Sidekiq::ScheduledSet.new.select { |entry| entry.klass == 'LegacyProjectCacheWorker' }.each(&:delete)
  end

  def down
    # no-op
  end
end
