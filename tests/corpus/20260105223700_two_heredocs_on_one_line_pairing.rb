# frozen_string_literal: true

class TwoHeredocsOnOneLinePairing < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    execute(<<~SQL1, <<~SQL2)
      DELETE FROM ci_pending_builds WHERE protected IS NULL
    SQL1
      comment
    SQL2
    execute <<~SQL
      ALTER TABLE ci_pending_builds ADD CONSTRAINT check_namespace NOT VALID CHECK (namespace_id IS NOT NULL)
    SQL
  end

  def down
    # no-op
  end
end
