# frozen_string_literal: true

class UnrecognisedEffectfulHelperStaysUnknown < Gitlab::Database::Migration[2.2]
  milestone '18.9'

  def up
    return unless index_exists?(:projects, :star_count)

    refresh_statistics_materialized_view(:project_statistics)
  end

  def down
    # no-op
  end
end
