# frozen_string_literal: true

class InstallAndRemoveRenameTriggersOnTodos < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    install_rename_triggers :todos, :note_id, :note_id_convert_to_bigint
    remove_rename_triggers :todos, 'trigger_todos_old_rename'
  end

  def down
    # no-op
  end
end
