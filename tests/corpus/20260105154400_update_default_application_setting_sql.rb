# frozen_string_literal: true

class UpdateDefaultApplicationSettingSql < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    execute <<~SQL
      UPDATE application_settings
      SET max_artifacts_size = 1000
      WHERE max_artifacts_size IS NULL
    SQL
  end

  def down
    # no-op
  end
end
