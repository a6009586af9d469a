# frozen_string_literal: true

class UnpreparePartitionedAsyncIndexByNameOnPCiBuilds < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    unprepare_partitioned_async_index_by_name :p_ci_builds, 'index_p_ci_builds_on_legacy_runner_type'
  end

  def down
    # no-op
  end
end
