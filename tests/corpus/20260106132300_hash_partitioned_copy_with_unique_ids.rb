# frozen_string_literal: true

class HashPartitionedCopyWithUniqueIds < Gitlab::Database::Migration[2.2]
  include Gitlab::Database::PartitioningMigrationHelpers

  milestone '18.9'
  disable_ddl_transaction!

  def up
    create_hash_partitions :p_ci_runner_machine_builds, 32
    ensure_unique_id :p_ci_runner_machine_builds
  end

  def down
    # no-op
  end
end
