# frozen_string_literal: true

class FinalizeRenameOfIssuesToTickets < Gitlab::Database::Migration[2.2]
  milestone '18.9'

  def up
    finalize_table_rename :analytics_dashboards_pointers, :analytics_dashboard_pointers
    rename_table_safely :cluster_agent_url_configs, :cluster_agent_url_configurations
  end

  def down
    undo_finalize_table_rename :analytics_dashboards_pointers, :analytics_dashboard_pointers
    undo_rename_table_safely :cluster_agent_url_configs, :cluster_agent_url_configurations
  end
end
