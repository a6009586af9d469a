# frozen_string_literal: true

class UnlistedNameBuilderUsedAsArgument < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!

  def up
    old_name = legacy_index_name_for(:notes, :discussion_id)

    remove_concurrent_index_by_name :notes, old_name if index_stale_for_partitioning(:notes, old_name)
    prepare_async_index :notes, :discussion_id, name: sharding_index_name(:notes, :discussion_id)
  end

  def down
    # no-op
  end
end
