# frozen_string_literal: true

class PrepareAsyncFkValidationForCiPipelines < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_ci

  FK_NAME = 'fk_a23be95014'

  def up
    prepare_async_foreign_key_validation :ci_pipelines, :merge_request_id, name: FK_NAME
    prepare_async_check_constraint_validation :ci_pipelines, name: 'check_a5f2a3b1c8'
  end

  def down
    unprepare_async_foreign_key_validation :ci_pipelines, :merge_request_id, name: FK_NAME
    unprepare_async_check_constraint_validation :ci_pipelines, name: 'check_a5f2a3b1c8'
  end
end
