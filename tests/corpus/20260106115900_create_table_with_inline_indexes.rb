# frozen_string_literal: true

class CreateTableWithInlineIndexes < Gitlab::Database::Migration[2.2]
  milestone '18.9'
  restrict_gitlab_migration gitlab_schema: :gitlab_sec

  def change
    create_table :vulnerability_finding_evidence_assets do |t|
      t.references :vulnerability_finding_evidence, null: false, foreign_key: { on_delete: :cascade },
        index: { name: 'finding_evidence_assets_on_finding_evidence_id' }
      t.bigint :project_id, null: false, index: true
      t.text :name, limit: 2048
      t.timestamps_with_timezone null: false

      t.index [:project_id, :name], unique: true, name: 'index_finding_evidence_assets_on_project_and_name'
    end
  end
end
