# frozen_string_literal: true

class ValidateConstraintsAfterReadingDefinitions < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  TABLE = :ci_pipeline_artifacts
  PARTITIONED = :p_ci_pipeline_artifacts

  def up
    validate_check_constraint_name!(not_null_constraint_name(TABLE, :partition_id))
    validate_timestamp_column_name!(:expire_at)
    return unless async_index_creation_available? && async_constraint_validation_available?
    return if check_not_null_constraint_exists?(TABLE, :partition_id) && check_text_limit_exists?(TABLE, :file)
    return if index_invalid?(generated_index_name(TABLE, 'index_ci_pipeline_artifacts_on_pipeline_id'))

    partitioned = find_partitioned_table(PARTITIONED)
    archived = make_archived_table_name(TABLE)
    copy = make_partitioned_table_name(TABLE)
    column = find_column_definition(TABLE, :file_store)
    say "#{partitioned.name} #{archived} #{copy} #{column.sql_type} #{partitioned_table_name(TABLE)}"
    say missing_schema_object_message(TABLE, 'check constraint', 'check_191b5850ec') if table_integer_ids.empty?
    say "bigint column #{convert_to_type_column(:id, :integer, :bigint)} #{true_value} #{false_value}"
    say "partitioned fk #{concurrent_partitioned_foreign_key_name(PARTITIONED, :pipeline_id)}"

    definitions = check_constraints_for(TABLE, :partition_id)
    return if definitions.empty?

    validate_check_constraint(TABLE, definitions.first['constraint_name'])
    validate_foreign_key(TABLE, :pipeline_id, name: quote_column_name('fk_rails_4a70390ca6'))
  end

  def down
    # no-op
  end
end
