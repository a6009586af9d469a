# frozen_string_literal: true

class ExpireCachedBannerKey < Gitlab::Database::Migration[2.2]
  milestone '18.9'

  def up
    # the cached banner still holds a column this release drops
    Rails.cache.delete('broadcast_banner:current')
  end

  def down
    # no-op
  end
end
