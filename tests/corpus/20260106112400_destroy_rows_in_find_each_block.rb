# frozen_string_literal: true

class DestroyRowsInFindEachBlock < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!

  class ChatName < MigrationRecord
    self.table_name = 'chat_names'
  end

  def up
    ChatName.where(integration_id: nil).find_each(batch_size: 500) do |chat_name|
      chat_name.destroy!
    end

    define_batchable_model('chat_teams').each_batch(of: 100) do |batch|
      batch.where(name: nil).each(&:destroy)
    end
  end

  def down
    # no-op
  end
end
