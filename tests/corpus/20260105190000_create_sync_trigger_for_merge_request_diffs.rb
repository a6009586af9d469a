# frozen_string_literal: true

class CreateSyncTriggerForMergeRequestDiffs < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  FUNCTION_NAME = 'sync_merge_request_diffs_project_id'
  TRIGGER_NAME = 'trigger_sync_mrd_project_id'

  def up
    create_trigger_function(FUNCTION_NAME) do
      <<~SQL
        NEW.project_id := NEW.target_project_id;
        RETURN NEW;
      SQL
    end
    create_trigger(:merge_request_diffs, TRIGGER_NAME, FUNCTION_NAME, fires: 'BEFORE INSERT OR UPDATE')
  end

  def down
    drop_trigger(:merge_request_diffs, TRIGGER_NAME)
    drop_function(FUNCTION_NAME)
  end
end
