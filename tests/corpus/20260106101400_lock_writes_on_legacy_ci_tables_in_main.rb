# frozen_string_literal: true

class LockWritesOnLegacyCiTablesInMain < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  TABLES = %w[ci_runner_taggings ci_runner_namespaces].freeze

  def up
    return unless Gitlab::Database.database_mode == Gitlab::Database::MODE_MULTIPLE_DATABASES

    TABLES.each do |table_name|
      Gitlab::Database::LockWritesManager.new(
        table_name: table_name,
        connection: connection,
        database_name: 'main',
        with_retries: true,
        logger: Logger.new($stdout)
      ).lock_writes
    end
  end

  def down
    TABLES.each do |table_name|
      Gitlab::Database::LockWritesManager.new(
        table_name: table_name, connection: connection, database_name: 'main', logger: nil
      ).unlock_writes
    end
  end
end
