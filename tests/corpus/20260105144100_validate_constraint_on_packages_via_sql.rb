# frozen_string_literal: true

class ValidateConstraintOnPackagesViaSql < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    execute('ALTER TABLE packages_packages VALIDATE CONSTRAINT check_d6301aedeb;')
  end

  def down
    # no-op
  end
end
