# frozen_string_literal: true

class BackfillCiBuildNeedsBigintIds < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  TABLE = :ci_build_needs
  COLUMNS = %i[id]

  def up
    backfill_conversion_of_integer_to_bigint TABLE, COLUMNS, sub_batch_size: 500
  end

  def down
    revert_backfill_conversion_of_integer_to_bigint TABLE, COLUMNS
  end
end
