# frozen_string_literal: true

class FinishLegacyBigintCopyOfNotes < Gitlab::Database::Migration[2.0]
  disable_ddl_transaction!

  def up
    finish_backfill_conversion_of_integer_to_bigint :notes, :id
  end

  def down
    # no-op
  end
end
