# frozen_string_literal: true

class TruncateThenIndexIsCheapButTruncateIsNot < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    truncate_tables!('user_credit_card_validations_tmp')

    add_concurrent_index :user_credit_card_validations_tmp, :stripe_card_fingerprint
    add_not_null_constraint :user_credit_card_validations_tmp, :user_id
  end

  def down
    # no-op
  end
end
