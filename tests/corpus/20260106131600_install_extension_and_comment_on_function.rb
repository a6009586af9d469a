# frozen_string_literal: true

class InstallExtensionAndCommentOnFunction < Gitlab::Database::Migration[2.2]
  milestone '18.9'

  def up
    create_extension :btree_gist
    create_comment('FUNCTION', 'table_sync_function_2be879775d', 'Partitioning migration: table sync')
  end

  def down
    drop_extension :btree_gist
  end
end
