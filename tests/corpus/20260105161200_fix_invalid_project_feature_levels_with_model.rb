# frozen_string_literal: true

class FixInvalidProjectFeatureLevelsWithModel < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  class ProjectFeature < MigrationRecord
    self.table_name = 'project_features'
  end

  def up
    ProjectFeature.where(pages_access_level: nil).update_all(pages_access_level: 10)
  end

  def down
    # no-op
  end
end
