class LegacyTypeChangeUsingBackgroundMigration < ActiveRecord::Migration[4.2]
  include Gitlab::Database::MigrationHelpers

  DOWNTIME = false

  disable_ddl_transaction!

  class Issue < ActiveRecord::Base
    self.table_name = 'issues'

    include ::EachBatch

    def self.to_migrate
      where('closed_at IS NOT NULL')
    end
  end

  def up
    change_column_type_using_background_migration(Issue.to_migrate, :closed_at, :datetime_with_timezone)
    rename_column_using_background_migration(:issues, :closed_at, :closed_at_timestamp)
  end

  def down
    # no-op
  end
end
