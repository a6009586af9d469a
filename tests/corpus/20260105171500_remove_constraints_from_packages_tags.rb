# frozen_string_literal: true

class RemoveConstraintsFromPackagesTags < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    remove_check_constraint :packages_tags, 'check_caa1ad4f73'
    remove_not_null_constraint :packages_tags, :project_id
    remove_text_limit :packages_tags, :name
  end

  def down
    # no-op
  end
end
