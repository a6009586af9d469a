# frozen_string_literal: true

class ResetStuckImportStates < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  BATCH_SIZE = 1_000

  def up
    model = define_batchable_model('project_import_states')
    model.each_batch(of: BATCH_SIZE) do |batch|
      batch.where(status: 'started').update_all(status: 'failed')
    end
  end

  def down
    # no-op
  end
end
