# frozen_string_literal: true

class EnsureBigintBackfillOfSentNotifications < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    ensure_backfill_conversion_of_integer_to_bigint_is_finished(:sent_notifications, %i[id noteable_id])
  end

  def down
    # no-op
  end
end
