# frozen_string_literal: true

class ConditionalIndexForSaasOnly < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  INDEX_NAME = 'index_namespaces_on_traversal_ids_gin'

  def up
    return unless Gitlab.com_except_jh?

    add_concurrent_index :namespaces, :traversal_ids, using: :gin, name: INDEX_NAME
  end

  def down
    # no-op
  end
end
