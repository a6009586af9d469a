# frozen_string_literal: true

class CreateTableWithForceRecreates < Gitlab::Database::Migration[2.2]
  milestone '18.9'

  def up
    create_table :user_broadcast_message_dismissals, force: :cascade do |t|
      t.bigint :user_id, null: false
      t.bigint :broadcast_message_id, null: false
    end
  end

  def down
    # no-op
  end
end
