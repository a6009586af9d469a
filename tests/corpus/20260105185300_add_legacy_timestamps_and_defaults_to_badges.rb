# frozen_string_literal: true

class AddLegacyTimestampsAndDefaultsToBadges < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    add_timestamps :badges, null: true
    add_column_with_default :badges, :enabled, :boolean, default: true
  end

  def down
    # no-op
  end
end
