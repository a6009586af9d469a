# frozen_string_literal: true

class MainCellSchemaCleanup < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main_cell

  def up
    remove_column :organization_settings, :legacy_visibility
  end

  def down
    # no-op
  end
end
