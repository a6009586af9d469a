# frozen_string_literal: true

class OnlyDownLogicForCiPipelines < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def down
    execute('DELETE FROM ci_pipelines WHERE id < 0')
  end
end
