# frozen_string_literal: true

class VacuumAndDoBlockSql < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    execute <<~SQL
      DO $$
      BEGIN
        PERFORM pg_sleep(1);
      END
      $$;
    SQL
  end

  def down
    # no-op
  end
end
