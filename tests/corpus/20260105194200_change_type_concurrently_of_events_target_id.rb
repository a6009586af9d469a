# frozen_string_literal: true

class ChangeTypeConcurrentlyOfEventsTargetId < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    change_column_type_concurrently :events, :target_id, :bigint
  end

  def down
    undo_change_column_type_concurrently :events, :target_id
  end
end
