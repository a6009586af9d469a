# frozen_string_literal: true

# pdm: nature=unknown

class DeclaredUnknownNatureOnPurpose < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    remove_column :ci_runners, :legacy_token
  end

  def down
    # no-op
  end
end
