# frozen_string_literal: true

class UpdateRowsWithSqlFragmentsInBatches < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    count = select_value("SELECT COUNT(*) FROM #{quote_table_name(:routes)} WHERE path LIKE 'old/%'")
    return if count.to_i == 0

    say "rows: #{select_values('SELECT id FROM routes LIMIT 5').inspect} #{select_rows('SELECT 1').size}"
    say select_one("SELECT MAX(id) AS id FROM routes")['id'].to_s
    say select_all('SELECT 1 AS one').to_a.inspect

    update_column_in_batches(:routes, :path, replace_sql(Arel::Table.new(:routes)[:path], 'old/', quote('new/')))

    define_batchable_model('redirect_routes').in_batches(of: 500) do |relation|
      relation.where("path LIKE 'old/%'").delete_all
    end

    define_batchable_model('project_aliases').find_in_batches(batch_size: 200) do |aliases|
      say aliases.map(&:name).join(', ')
    end
  end

  def down
    # no-op
  end
end
