# frozen_string_literal: true

class BackfillIidsOfSmallTable < Gitlab::Database::Migration[2.2]
  milestone '18.9'

  def up
    backfill_iids('operations_feature_flags')
  end

  def down
    # no-op
  end
end
