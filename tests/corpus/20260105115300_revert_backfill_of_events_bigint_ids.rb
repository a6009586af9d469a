# frozen_string_literal: true

class RevertBackfillOfEventsBigintIds < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    revert_backfill_conversion_of_integer_to_bigint :events, %i[target_id]
  end

  def down
    # no-op
  end
end
