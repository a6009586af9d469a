# frozen_string_literal: true

class InitializeBigintConversionOfNotesId < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    initialize_conversion_of_integer_to_bigint :notes, :id
  end

  def down
    revert_initialize_conversion_of_integer_to_bigint :notes, :id
  end
end
