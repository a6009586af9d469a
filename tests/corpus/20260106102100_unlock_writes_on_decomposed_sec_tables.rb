# frozen_string_literal: true

class UnlockWritesOnDecomposedSecTables < Gitlab::Database::Migration[2.3]
  milestone '18.9'
  restrict_gitlab_migration gitlab_schema: :gitlab_sec

  def up
    manager = Gitlab::Database::LockWritesManager.new(
      table_name: 'vulnerability_scanners', connection: connection, database_name: 'sec', logger: nil
    )
    manager.unlock_writes
    Gitlab::Database::LockWritesManager.new(
      table_name: 'vulnerability_identifiers', connection: connection, database_name: 'sec', logger: nil
    ).unlock_writes
  end

  def down
    # no-op
  end
end
