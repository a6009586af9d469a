# frozen_string_literal: true

class IndexTablesOfAnonymousModels < Gitlab::Database::Migration[2.1]
  disable_ddl_transaction!

  TABLES = %w[epics sprints].freeze

  def model_for(table)
    Class.new(ApplicationRecord) do
      self.table_name = table
      self.inheritance_column = :_type_disabled
    end
  end

  def up
    TABLES.each do |table|
      next unless model_for(table).where(archived: nil).exists?

      add_concurrent_index table.to_sym, :archived, where: 'archived IS NULL'
    end
  end

  def down
    # no-op
  end
end
