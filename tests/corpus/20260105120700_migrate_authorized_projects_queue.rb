# frozen_string_literal: true

class MigrateAuthorizedProjectsQueue < Gitlab::Database::Migration[2.2]
  milestone '18.8'

  def up
    sidekiq_queue_migrate 'authorized_projects', to: 'authorized_projects:authorized_projects'
  end

  def down
    # no-op
  end
end
