# frozen_string_literal: true

class RemoveObsoleteFeatureFlags < Gitlab::Database::Migration[2.2]
  milestone '18.8'

  def up
    Feature.disable(:legacy_merge_request_widget)
    Feature.remove(:ci_legacy_pipeline_graph)
  end

  def down
    # no-op
  end
end
