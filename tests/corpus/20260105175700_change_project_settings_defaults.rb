# frozen_string_literal: true

class ChangeProjectSettingsDefaults < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    change_column_default :project_settings, :show_default_award_emojis, from: false, to: true
    change_column_null :project_settings, :legacy_flag, true
    change_column :project_settings, :cve_id_request_enabled, :boolean
  end

  def down
    # no-op
  end
end
