# frozen_string_literal: true

class RemoveUsersLegacyThemeColumn < Gitlab::Database::Migration[2.2]
  milestone '18.8'

  def up
    with_lock_retries do
      remove_column :users, :legacy_theme_id
    end
  end

  def down
    with_lock_retries do
      add_column :users, :legacy_theme_id, :smallint
    end
  end
end
