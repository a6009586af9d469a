# frozen_string_literal: true

# Legacy scheduling helpers, kept for old branches.

class ScheduleUserHighestRolesRefresh < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  MIGRATION = "RefreshUserHighestRoles"

  def up
    User.active.each_slice(1000).with_index do |users, index|
      ids = users.map(&:id)
      migrate_in(index * 2.minutes, MIGRATION, [ids])
    end
    bulk_migrate_in(10.minutes, [[MIGRATION, [1]]])
    bulk_migrate_async([[MIGRATION, [2]]])
    migrate_async(MIGRATION, [3])
  end

  def down
    # no-op
  end
end
