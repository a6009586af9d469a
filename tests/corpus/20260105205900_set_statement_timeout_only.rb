# frozen_string_literal: true

class SetStatementTimeoutOnly < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    execute('SET statement_timeout TO 0')
  end

  def down
    # no-op
  end
end
