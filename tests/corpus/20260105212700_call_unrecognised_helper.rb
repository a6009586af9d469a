# frozen_string_literal: true

class CallUnrecognisedHelper < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    rebuild_materialized_statistics(:projects)
  end

  def down
    # no-op
  end
end
