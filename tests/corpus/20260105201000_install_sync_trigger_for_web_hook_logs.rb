# frozen_string_literal: true

class InstallSyncTriggerForWebHookLogs < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    create_trigger_to_sync_tables :web_hook_logs, :web_hook_logs_part, :id
  end

  def down
    # no-op
  end
end
