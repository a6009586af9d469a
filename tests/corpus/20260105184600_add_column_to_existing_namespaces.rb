# frozen_string_literal: true

class AddColumnToExistingNamespaces < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    add_column :namespaces, :archived_at, :datetime_with_timezone
    add_reference :namespaces, :archived_by, index: false
    add_timestamps_with_timezone :namespace_limits, null: true
  end

  def down
    # no-op
  end
end
