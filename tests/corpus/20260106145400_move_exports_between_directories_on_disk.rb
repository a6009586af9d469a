# frozen_string_literal: true

class MoveExportsBetweenDirectoriesOnDisk < Gitlab::Database::Migration[2.2]
  milestone '18.9'

  def up
    return unless Dir.exist?(legacy_dir)

    FileUtils.mkdir_p(target_dir)
    Dir.children(legacy_dir).each { |name| FileUtils.mv(File.join(legacy_dir, name), target_dir) }
  end

  def down
    # no-op
  end

  def legacy_dir
    File.join(Rails.root, 'shared', 'exports')
  end

  def target_dir
    File.join(Rails.root, 'shared', 'exports', 'archive')
  end
end
