# frozen_string_literal: true

class SqlHeredocWithUpdateAndCreateIndex < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_sec

  def up
    execute <<~SQL
      UPDATE vulnerability_occurrences SET detection_method = 0 WHERE detection_method IS NULL;
    SQL

    execute <<~SQL
      CREATE INDEX CONCURRENTLY index_vuln_occurrences_on_detection ON vulnerability_occurrences (detection_method);
    SQL
  end

  def down
    # no-op
  end
end
