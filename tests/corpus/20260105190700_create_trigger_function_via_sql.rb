# frozen_string_literal: true

class CreateTriggerFunctionViaSql < Gitlab::Database::Migration[2.2]
  milestone '18.8'
  disable_ddl_transaction!
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    execute(<<~SQL)
      CREATE OR REPLACE FUNCTION set_issues_work_item_type() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE issues SET work_item_type_id = 1 WHERE id = NEW.id;
        RETURN NEW;
      END;
      $$;

      CREATE TRIGGER trigger_set_issues_work_item_type
      BEFORE INSERT ON issues FOR EACH ROW EXECUTE FUNCTION set_issues_work_item_type();
    SQL
  end

  def down
    # no-op
  end
end
