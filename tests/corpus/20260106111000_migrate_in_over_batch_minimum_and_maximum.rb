# frozen_string_literal: true

class MigrateInOverBatchMinimumAndMaximum < ActiveRecord::Migration[6.1]
  include Gitlab::Database::MigrationHelpers

  MIGRATION = 'PopulateMergeRequestAssigneesTable'
  BATCH_SIZE = 5_000
  DELAY = 3.minutes

  disable_ddl_transaction!

  def up
    model = define_batchable_model('merge_requests')

    model.where.not(assignee_id: nil).each_batch(of: BATCH_SIZE) do |relation, index|
      first_id = relation.minimum(:id)
      last_id = relation.maximum(:id)

      migrate_in(index * DELAY, MIGRATION, [first_id, last_id])
    end
  end

  def down
    # no-op
  end
end
