# frozen_string_literal: true

class SwapPrimaryKeyOfCiBuildNeeds < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    with_lock_retries(raise_on_exhaustion: true) do
      swap_primary_key :ci_build_needs, :ci_build_needs_pkey, :index_ci_build_needs_on_id_convert_to_bigint
    end
  end

  def down
    add_concurrent_index :ci_build_needs, :id_convert_to_bigint, unique: true
    unswap_primary_key :ci_build_needs, :ci_build_needs_pkey, :index_ci_build_needs_on_id_convert_to_bigint
  end
end
