# frozen_string_literal: true

class UndoRenameAndTypeChangeOnNotes < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    undo_rename_column_concurrently :notes, :line_code, :line_code_v2
    undo_change_column_type_concurrently :notes, :position
  end

  def down
    # no-op
  end
end
