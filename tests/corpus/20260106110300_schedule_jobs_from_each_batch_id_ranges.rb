# frozen_string_literal: true

class ScheduleJobsFromEachBatchIdRanges < Gitlab::Database::Migration[1.0]
  disable_ddl_transaction!

  MIGRATION = 'BackfillEventsTargetType'
  DELAY_INTERVAL = 2.minutes
  BATCH_SIZE = 10_000

  class Event < ActiveRecord::Base
    include EachBatch

    self.table_name = 'events'
  end

  def up
    Event.where(target_type: nil).each_batch(of: BATCH_SIZE) do |batch, index|
      range = batch.pluck(Arel.sql('MIN(id)'), Arel.sql('MAX(id)')).first

      BackgroundMigrationWorker.perform_in(index * DELAY_INTERVAL, MIGRATION, range)
    end
  end

  def down
    # no-op
  end
end
