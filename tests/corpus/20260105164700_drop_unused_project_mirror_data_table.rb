# frozen_string_literal: true

class DropUnusedProjectMirrorDataTable < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    drop_table :project_mirror_data_legacy
  end

  def down
    create_table :project_mirror_data_legacy do |t|
      t.bigint :project_id
    end
  end
end
