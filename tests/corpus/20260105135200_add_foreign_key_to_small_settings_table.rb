# frozen_string_literal: true

class AddForeignKeyToSmallSettingsTable < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    add_foreign_key :application_setting_terms, :users, column: :created_by_id, on_delete: :nullify
  end

  def down
    # no-op
  end
end
