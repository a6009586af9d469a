# frozen_string_literal: true

class InsertDefaultCiInstanceVariables < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    sql = <<~SQL
      INSERT INTO ci_instance_variables (key, value, protected)
      VALUES ('GITLAB_FEATURES', '', false)
      ON CONFLICT DO NOTHING
    SQL
    execute(sql)
  end

  def down
    # no-op
  end
end
