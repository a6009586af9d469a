# frozen_string_literal: true

class RemoveCascadingSettingAndColumnDefaults < Gitlab::Database::Migration[2.2]
  include Gitlab::Database::MigrationHelpers::CascadingNamespaceSettings

  milestone '18.9'

  def up
    remove_cascading_namespace_setting :delayed_project_removal
    remove_column_default :merge_requests_closing_issues, :from_mr_description
    add_sequence :shards, :id, :shards_id_seq, 1000
  end

  def down
    add_cascading_namespace_setting :delayed_project_removal, :boolean, default: false, null: false
  end
end
