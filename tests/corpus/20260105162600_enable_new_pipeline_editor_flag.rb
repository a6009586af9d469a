# frozen_string_literal: true

class EnableNewPipelineEditorFlag < Gitlab::Database::Migration[2.2]
  milestone '18.8'

  def up
    Feature.enable(:ci_pipeline_editor_v2)
  end

  def down
    # no-op
  end
end
