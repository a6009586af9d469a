# frozen_string_literal: true

class CallApplicationServiceToRebuildCaches < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    Projects::RepositoryLanguagesService.new.execute_for_all
  end

  def down
    # no-op
  end
end
