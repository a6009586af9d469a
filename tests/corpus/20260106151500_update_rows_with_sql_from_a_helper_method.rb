# frozen_string_literal: true

class UpdateRowsWithSqlFromAHelperMethod < Gitlab::Database::Migration[2.2]
  milestone '18.9'

  GROUP_IDS = [22, 31].freeze

  def up
    GROUP_IDS.each do |group_id|
      execute(reset_sql(group_id))
    end
  end

  def down
    # no-op
  end

  private

  def reset_sql(group_id)
    # the statement text lives here, not at the execute call
    <<~SQL
      UPDATE namespace_settings SET default_branch_name = NULL WHERE namespace_id = #{group_id}
    SQL
  end
end
