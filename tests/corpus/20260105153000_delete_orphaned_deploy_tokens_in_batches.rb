# frozen_string_literal: true

class DeleteOrphanedDeployTokensInBatches < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    define_batchable_model('deploy_tokens').each_batch(of: 500) do |batch|
      batch.where(project_id: nil, group_id: nil).delete_all
    end
  end

  def down
    # no-op
  end
end
