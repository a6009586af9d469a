# frozen_string_literal: true

class DeleteExpiredPersonalAccessTokenRows < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    execute("DELETE FROM personal_access_tokens WHERE expires_at < '2020-01-01'")
  end

  def down
    # no-op
  end
end
