# frozen_string_literal: true

class NoopGuardedByTableCheck < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    return unless table_exists?(:legacy_geo_nodes)
    return if column_exists?(:legacy_geo_nodes, :primary)
  end

  def down
    # no-op
  end
end
