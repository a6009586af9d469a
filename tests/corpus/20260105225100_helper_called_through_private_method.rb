# frozen_string_literal: true

class HelperCalledThroughPrivateMethod < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def cleanup_old_index
    remove_concurrent_index_by_name :todos, 'index_todos_on_old_target'
  end

  def up
    cleanup_old_index
  end

  def down
    # no-op
  end
end
