# frozen_string_literal: true

class CleanupBigintConversionForCiBuildNeeds < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    cleanup_conversion_of_integer_to_bigint :ci_build_needs, :id
  end

  def down
    restore_conversion_of_integer_to_bigint :ci_build_needs, :id
  end
end
