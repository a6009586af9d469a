# frozen_string_literal: true

class SwapColumnsUsingDefinitionLookups < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!

  TABLE = :todos
  COLUMN = :note_id
  BIGINT = :note_id_convert_to_bigint

  def up
    return unless column_for(TABLE, BIGINT).present?
    return if indexes_for(TABLE, COLUMN).empty? && foreign_keys_for(TABLE, COLUMN).empty?

    with_lock_retries(raise_on_exhaustion: true) do
      swap_columns TABLE, COLUMN, convert_to_bigint_column(COLUMN)
      swap_columns_default TABLE, COLUMN, BIGINT
      swap_foreign_keys TABLE, :fk_todos_note_id, :fk_todos_note_id_convert_to_bigint
      swap_indexes TABLE, :index_todos_on_note_id, :index_todos_on_note_id_convert_to_bigint
      reset_trigger_function(rename_trigger_name(TABLE, COLUMN, BIGINT))
    end
  end

  def down
    # no-op
  end
end
