# frozen_string_literal: true

class AddDesignsWidgetToTicketWorkItemType < Gitlab::Database::Migration[2.2]
  include Gitlab::Database::MigrationHelpers::WorkItems::Widgets

  milestone '18.9'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  WORK_ITEM_TYPE_ENUM_VALUE = 8
  WIDGETS = [{ name: 'Designs', widget_type: 22 }].freeze

  def up
    add_widget_definitions(type_enum_value: WORK_ITEM_TYPE_ENUM_VALUE, widgets: WIDGETS)
  end

  def down
    remove_widget_definitions(type_enum_value: WORK_ITEM_TYPE_ENUM_VALUE, widgets: WIDGETS)
  end
end
