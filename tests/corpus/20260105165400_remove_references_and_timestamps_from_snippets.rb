# frozen_string_literal: true

class RemoveReferencesAndTimestampsFromSnippets < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    remove_reference :snippets, :legacy_author, index: true
    remove_timestamps :snippet_statistics
  end

  def down
    # no-op
  end
end
