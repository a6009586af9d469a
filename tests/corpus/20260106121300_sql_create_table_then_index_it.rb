# frozen_string_literal: true

class SqlCreateTableThenIndexIt < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    execute(<<~SQL)
      CREATE TABLE IF NOT EXISTS ci_finished_build_ch_sync_events (
        build_id bigint NOT NULL,
        build_finished_at timestamp without time zone NOT NULL,
        processed boolean DEFAULT false NOT NULL
      );
    SQL

    execute(<<~SQL)
      CREATE INDEX CONCURRENTLY IF NOT EXISTS index_ci_finished_build_ch_sync_events_on_build_id
      ON ci_finished_build_ch_sync_events (build_id);
    SQL
  end

  def down
    drop_table :ci_finished_build_ch_sync_events
  end
end
