# frozen_string_literal: true

class ChangeWithAddIndexReversible < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!

  def change
    add_concurrent_index :labels, :lock_on_merge, where: 'lock_on_merge = true'
  end
end
