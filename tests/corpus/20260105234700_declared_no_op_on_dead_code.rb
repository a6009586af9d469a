# frozen_string_literal: true

# pdm: nature=no_op

class DeclaredNoOpOnDeadCode < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    Gitlab::BackgroundMigration.steal('ObsoleteBackfill') if Gitlab.dev_or_test_env?
  end

  def down
    # no-op
  end
end
