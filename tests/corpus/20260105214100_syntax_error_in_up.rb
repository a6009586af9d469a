# frozen_string_literal: true

class SyntaxErrorInUp < Gitlab::Database::Migration[2.2]
  milestone '18.8'

  def up
    add_concurrent_index :issues, [:project_id, :state_id
  end
end
