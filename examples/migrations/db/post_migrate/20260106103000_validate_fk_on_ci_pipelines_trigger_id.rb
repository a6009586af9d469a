# frozen_string_literal: true

class ValidateFkOnCiPipelinesTriggerId < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    validate_foreign_key :ci_pipelines, :trigger_id, name: 'fk_ci_pipelines_trigger_id'
  end

  def down
    # validation cannot be undone
  end
end
