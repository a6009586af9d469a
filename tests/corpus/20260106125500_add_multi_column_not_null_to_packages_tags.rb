# frozen_string_literal: true

class AddMultiColumnNotNullToPackagesTags < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!

  def up
    add_multi_column_not_null_constraint(:packages_tags, :project_id, :namespace_id)
  end

  def down
    remove_multi_column_not_null_constraint(:packages_tags, :project_id, :namespace_id)
  end
end
