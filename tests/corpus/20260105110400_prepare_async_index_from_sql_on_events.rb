# frozen_string_literal: true

class PrepareAsyncIndexFromSqlOnEvents < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  INDEX_NAME = 'index_events_on_author_id_created_at_pushes'

  def up
    prepare_async_index_from_sql(<<~SQL)
      CREATE INDEX CONCURRENTLY #{INDEX_NAME} ON events (author_id, created_at) WHERE action = 5
    SQL
  end

  def down
    unprepare_async_index_by_name :events, INDEX_NAME
  end
end
