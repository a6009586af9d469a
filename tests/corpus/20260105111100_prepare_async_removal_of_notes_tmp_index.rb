# frozen_string_literal: true

class PrepareAsyncRemovalOfNotesTmpIndex < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  INDEX_NAME = 'tmp_index_notes_on_id_where_confidential'

  def up
    prepare_async_index_removal :notes, :id, name: INDEX_NAME
  end

  def down
    unprepare_async_index :notes, :id, name: INDEX_NAME
  end
end
