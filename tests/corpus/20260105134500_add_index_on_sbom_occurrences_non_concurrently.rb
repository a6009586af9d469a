# frozen_string_literal: true

class AddIndexOnSbomOccurrencesNonConcurrently < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_sec

  def up
    add_index :sbom_occurrences, :component_version_id, name: 'index_sbom_occurrences_on_component_version_id'
  end

  def down
    # no-op
  end
end
