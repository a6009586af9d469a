# frozen_string_literal: true

class MigrateFeatureFlagsAndPlanLimitsToSettings < Gitlab::Database::Migration[2.2]
  include Gitlab::Database::MigrationHelpers::FeatureFlagMigratorHelpers

  milestone '18.9'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    up_migrate_to_setting(feature_flag_name: :ci_job_token_scope_strict, setting_name: :ci_job_token_scope_strict,
      default_enabled: false)
    up_migrate_to_jsonb_setting(feature_flag_name: :duo_chat_beta, setting_name: :duo_chat_beta,
      jsonb_column_name: :duo_settings, default_enabled: true)
    create_or_update_plan_limit('ci_max_artifact_size_sbom', 'free', 50)
  end

  def down
    down_migrate_to_setting(setting_name: :ci_job_token_scope_strict, default_enabled: false)
    down_migrate_to_jsonb_setting(setting_name: :duo_chat_beta, jsonb_column_name: :duo_settings)
  end
end
