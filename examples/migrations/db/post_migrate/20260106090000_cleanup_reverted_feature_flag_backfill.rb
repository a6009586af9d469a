# frozen_string_literal: true

# The backfill this migration used to queue was reverted; the file stays so the version is recorded.
class CleanupRevertedFeatureFlagBackfill < Gitlab::Database::Migration[2.2]
  milestone '18.8'

  def up
    # no-op
  end

  def down
    # no-op
  end
end
