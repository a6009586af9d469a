# frozen_string_literal: true

class ReadRowsWithSelectThenUpdateEach < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!

  def up
    stale = execute <<~SQL
      WITH latest AS (
        SELECT milestone_id, MAX(due_date) AS due_date FROM sprints GROUP BY milestone_id
      )
      SELECT id, latest.due_date FROM milestones JOIN latest ON latest.milestone_id = milestones.id
      WHERE milestones.due_date IS NULL
    SQL

    stale.each do |row|
      execute("UPDATE milestones SET due_date = '#{row['due_date']}' WHERE id = #{row['id']}")
    end
  end

  def down
    # no-op
  end
end
