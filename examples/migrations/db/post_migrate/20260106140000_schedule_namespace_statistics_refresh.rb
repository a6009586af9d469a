# frozen_string_literal: true

# pdm: nature=background_scheduling
class ScheduleNamespaceStatisticsRefresh < Gitlab::Database::Migration[2.2]
  milestone '18.8'

  def up
    Namespaces::ScheduleAggregationWorker.bulk_perform_async([[1], [2], [3]])
  end

  def down; end
end
