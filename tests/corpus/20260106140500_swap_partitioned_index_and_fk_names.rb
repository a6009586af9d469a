# frozen_string_literal: true

class SwapPartitionedIndexAndFkNames < Gitlab::Database::Migration[2.3]
  include Gitlab::Database::PartitioningMigrationHelpers

  milestone '18.9'
  disable_ddl_transaction!

  TABLE = :p_ci_job_annotations
  OLD_INDEX = :p_ci_job_annotations_job_id_idx
  NEW_INDEX = :p_ci_job_annotations_job_id_bigint_idx

  def up
    with_lock_retries(raise_on_exhaustion: true) do
      lock_tables(TABLE)

      swap_partitioned_indexes(TABLE, NEW_INDEX, OLD_INDEX)
      rename_partitioned_index(TABLE, :p_ci_job_annotations_tmp_idx, :p_ci_job_annotations_name_idx)
      swap_partitioned_foreign_keys(TABLE, :fk_annotations_job_id_bigint, :fk_annotations_job_id)
      rename_partitioned_foreign_key(TABLE, :fk_annotations_tmp, :fk_annotations_project_id)
    end
  end

  def down
    # no-op: the names are swapped back by the next migration
  end
end
