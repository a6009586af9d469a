# frozen_string_literal: true

class StealRemainingProjectSettingsJobs < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    Gitlab::BackgroundMigration.steal('BackfillProjectSettings')
    finalize_background_migration('BackfillProjectSettings')
  end

  def down
    # no-op
  end
end
