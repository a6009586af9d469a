# frozen_string_literal: true

class RemoveCiBuildsLegacyColumns < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    remove_column :ci_builds, :legacy_artifacts_file
    remove_columns :ci_builds, :legacy_artifacts_size, :legacy_artifacts_metadata
  end

  def down
    # no-op
  end
end
