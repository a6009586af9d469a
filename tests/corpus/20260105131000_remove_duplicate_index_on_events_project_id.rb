# frozen_string_literal: true

class RemoveDuplicateIndexOnEventsProjectId < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    remove_concurrent_index :events, :project_id, name: 'index_events_on_project_id'
  end

  def down
    # no-op
  end
end
