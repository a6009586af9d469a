# frozen_string_literal: true

class IndexOnNewTableIsCheap < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  def up
    create_table :ci_job_token_authorizations, if_not_exists: true do |t|
      t.bigint :accessed_project_id, null: false
      t.bigint :origin_project_id, null: false
      t.timestamps_with_timezone null: false
    end

    add_concurrent_index :ci_job_token_authorizations, :origin_project_id
    add_concurrent_foreign_key :ci_job_token_authorizations, :projects, column: :origin_project_id
    add_text_limit :ci_job_token_authorizations, :origin_project_id, 255
  end

  def down
    drop_table :ci_job_token_authorizations
  end
end
