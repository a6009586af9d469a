# frozen_string_literal: true

class DropDeprecatedCiBuildTraceSections < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    drop_table :ci_build_trace_sections_deprecated, if_exists: true
  end

  def down
    # the table held no data worth restoring
  end
end
