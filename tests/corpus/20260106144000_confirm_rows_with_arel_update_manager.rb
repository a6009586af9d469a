# frozen_string_literal: true

class ConfirmRowsWithArelUpdateManager < Gitlab::Database::Migration[2.1]
  GHOST_TYPE = 5

  def up
    users = Arel::Table.new(:users)
    manager = Arel::UpdateManager.new
    manager.table(users)
      .where(users[:user_type].eq(GHOST_TYPE))
      .set([[users[:locked_at], nil]])

    connection.execute(manager.to_sql)
  end

  def down
    # irreversible: the previous lock state is not kept
  end
end
