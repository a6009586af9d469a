# frozen_string_literal: true

class SqlLockTableInAccessExclusiveMode < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!

  def up
    with_lock_retries do
      execute('LOCK TABLE "merge_request_metrics", "merge_requests" IN ACCESS EXCLUSIVE MODE')

      execute(<<~SQL)
        ALTER TABLE merge_request_metrics
          RENAME CONSTRAINT fk_ae440388cc TO fk_ae440388cc_old
      SQL
    end
  end

  def down
    # no-op
  end
end
