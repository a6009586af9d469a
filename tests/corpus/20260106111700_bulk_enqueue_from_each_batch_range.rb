# frozen_string_literal: true

class BulkEnqueueFromEachBatchRange < Gitlab::Database::Migration[2.0]
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  MIGRATION = 'RecalculateVulnerabilityFindingSignatures'

  def up
    jobs = []

    each_batch_range('vulnerability_findings', scope: ->(table) { table.where(report_type: 7) }, of: 2_000) do |min, max|
      jobs.push([MIGRATION, [min, max]])
    end

    bulk_migrate_async(jobs) unless jobs.empty?
    bulk_queue_background_migration_jobs_by_range(define_batchable_model('vulnerability_reads'), MIGRATION)
  end

  def down
    # no-op
  end
end
