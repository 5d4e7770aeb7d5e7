"""Staff pages of the SMS texts and reminder settings (mounted at /notifications/texts/)."""

from django.urls import URLPattern, URLResolver, path

from notifications import texts_views as views

app_name = "notification_texts"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.message_templates, name="index"),
    path("settings/", views.notification_settings_edit, name="settings"),
    path("<str:kind>/<str:language>/", views.message_template_edit, name="edit"),
    path("<str:kind>/<str:language>/preview/", views.message_template_preview, name="preview"),
    path("<str:kind>/<str:language>/restore/", views.message_template_restore, name="restore"),
]
