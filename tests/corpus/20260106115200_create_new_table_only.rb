# frozen_string_literal: true

class CreateNewTableOnly < Gitlab::Database::Migration[2.2]
  milestone '18.9'

  def up
    create_table :ai_feature_usage_rollups, if_not_exists: true do |t|
      t.bigint :namespace_id, null: false
      t.text :feature, null: false, limit: 255
      t.integer :count, null: false, default: 0
      t.timestamps_with_timezone null: false
    end
  end

  def down
    drop_table :ai_feature_usage_rollups
  end
end
