# frozen_string_literal: true

class ValidateFkOnNotesAuthorId < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  FK_NAME = 'fk_rails_7d3ef5d1a4'

  def up
    validate_foreign_key :notes, :author_id, name: FK_NAME
  end

  def down
    # no-op
  end
end
