# frozen_string_literal: true

class RemoveDuplicateUserPreferencesWithCte < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    execute(<<~SQL.squish)
      WITH dupes AS (SELECT id FROM user_preferences WHERE user_id IS NULL)
      DELETE FROM user_preferences WHERE id IN (SELECT id FROM dupes)
    SQL
  end

  def down
    # no-op
  end
end
