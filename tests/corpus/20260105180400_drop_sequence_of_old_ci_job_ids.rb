# frozen_string_literal: true

class DropSequenceOfOldCiJobIds < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    drop_sequence(:ci_job_ids_legacy, :id, :ci_job_ids_legacy_id_seq)
  end

  def down
    # no-op
  end
end
