# frozen_string_literal: true

class EmptyUpWithHelpersOnlyInDown < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
  end

  def down
    remove_concurrent_index_by_name :issues, 'index_issues_on_obsolete_column'
    remove_column :issues, :obsolete_column
  end
end
