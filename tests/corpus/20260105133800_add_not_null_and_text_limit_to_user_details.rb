# frozen_string_literal: true

class AddNotNullAndTextLimitToUserDetails < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    add_not_null_constraint :user_details, :bio
    add_text_limit :user_details, :bio, 255
    add_check_constraint :user_details, 'char_length(discord) <= 500', 'check_discord_length'
  end

  def down
    remove_text_limit :user_details, :bio
    remove_not_null_constraint :user_details, :bio
    remove_check_constraint :user_details, 'check_discord_length'
  end
end
