# frozen_string_literal: true

class UpdateDefaultPipelineLimitInSettings < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    execute <<~SQL
      UPDATE application_settings SET ci_pipeline_limit = 2000 WHERE ci_pipeline_limit = 1000
    SQL
  end

  def down
    execute <<~SQL
      UPDATE application_settings SET ci_pipeline_limit = 1000 WHERE ci_pipeline_limit = 2000
    SQL
  end
end
