# frozen_string_literal: true

class EnqueueNamespaceStatisticsRefreshWorkers < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    Namespace.where(type: 'Group').each_slice(100) do |groups|
      Namespaces::ScheduleAggregationWorker.bulk_perform_async(groups.map { |g| [g.id] })
    end
    ::Projects::RefreshStatisticsWorker.perform_in(5.minutes, 1)
  end

  def down
    # no-op
  end
end
