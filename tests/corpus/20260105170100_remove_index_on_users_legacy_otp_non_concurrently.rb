# frozen_string_literal: true

class RemoveIndexOnUsersLegacyOtpNonConcurrently < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    remove_index :users, :legacy_otp_secret, name: 'index_users_on_legacy_otp_secret'
  end

  def down
    # no-op
  end
end
