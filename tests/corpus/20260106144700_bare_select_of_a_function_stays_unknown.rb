# frozen_string_literal: true

class BareSelectOfAFunctionStaysUnknown < Gitlab::Database::Migration[2.2]
  milestone '18.9'

  def up
    # the rows are not read: the SELECT is run for what its function does
    execute("SELECT setval('issue_links_id_seq', (SELECT MAX(id) FROM issue_links))")
  end

  def down
    # no-op
  end
end
