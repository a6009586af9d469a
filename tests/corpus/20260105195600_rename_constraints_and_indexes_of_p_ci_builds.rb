# frozen_string_literal: true

class RenameConstraintsAndIndexesOfPCiBuilds < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    rename_constraint :p_ci_builds, 'check_old_name', 'check_new_name'
    rename_index :p_ci_builds, 'index_old_builds', 'index_new_builds'
    drop_constraint :p_ci_builds, 'check_obsolete'
  end

  def down
    # no-op
  end
end
