# frozen_string_literal: true

# A regular (pre-deploy) migration: pdm-bot must ignore everything outside db/post_migrate/.
class AddTopicsToProjectSettings < Gitlab::Database::Migration[2.2]
  milestone '18.8'

  def change
    add_column :project_settings, :topics_cache, :jsonb, default: {}, null: false
  end
end
