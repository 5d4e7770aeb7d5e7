"""API of the SMS texts and reminder settings (mounted under /api/v1/)."""

from django.urls import URLPattern, path

from notifications import texts_api as api

urlpatterns: list[URLPattern] = [
    path(
        "notifications/message-templates/",
        api.MessageTemplateListView.as_view(),
        name="api_notifications_message_templates",
    ),
    path(
        "notifications/message-templates/<str:kind>/<str:language>/",
        api.MessageTemplateView.as_view(),
        name="api_notifications_message_template",
    ),
    path(
        "notifications/reminder-settings/",
        api.NotificationSettingsView.as_view(),
        name="api_notifications_reminder_settings",
    ),
]
