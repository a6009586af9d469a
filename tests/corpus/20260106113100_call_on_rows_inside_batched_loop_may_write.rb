# frozen_string_literal: true

class CallOnRowsInsideBatchedLoopMayWrite < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!

  def up
    define_batchable_model('namespace_statistics').each_batch(of: 250) do |batch|
      batch.each do |statistics|
        statistics.recalculate_wiki_size!
      end
    end
  end

  def down
    # no-op
  end
end
