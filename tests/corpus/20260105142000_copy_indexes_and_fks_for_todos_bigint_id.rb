# frozen_string_literal: true

class CopyIndexesAndFksForTodosBigintId < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    copy_indexes :todos, :note_id, :note_id_convert_to_bigint
    copy_foreign_keys :todos, :note_id, :note_id_convert_to_bigint
    copy_check_constraints :todos, :note_id, :note_id_convert_to_bigint
  end

  def down
    # no-op
  end
end
