# frozen_string_literal: true

class AddIndexGuardedByCatalogLookups < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!

  TABLE = :issues
  INDEX = 'index_issues_on_project_id_and_health_status'

  def up
    return unless table_exists?(TABLE) && column_exists?(TABLE, :health_status)
    return if index_exists_by_name?(TABLE, INDEX) || index_name_exists?(TABLE, INDEX)

    say "building #{index_name(TABLE, [:project_id, :health_status])} in #{current_schema}"
    add_concurrent_index TABLE, [:project_id, :health_status], name: INDEX

    fk_name = concurrent_foreign_key_name(TABLE, :sprint_id)
    validate_foreign_key(TABLE, :sprint_id, name: fk_name) if foreign_key_exists?(TABLE, :sprints, name: fk_name)

    limit_name = text_limit_name(TABLE, :service_desk_reply_to)
    validate_check_constraint(TABLE, limit_name) if check_constraint_exists?(TABLE, limit_name)
    validate_not_null_constraint(TABLE, :namespace_id) unless column_is_nullable?(TABLE, :namespace_id)
    add_check_constraint(TABLE, 'weight >= 0', check_constraint_name(TABLE, :weight, 'positive'))
  end

  def down
    remove_concurrent_index_by_name TABLE, INDEX
  end
end
