# frozen_string_literal: true

class RunEeJobBodyInline < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!

  def up
    return unless Gitlab.ee?

    ids = define_batchable_model('groups').where(type: 'Group').pluck(:id)
    EE::Gitlab::BackgroundMigration::RecalculateGroupStatistics.new.perform(ids)
  end

  def down
    # no-op
  end
end
