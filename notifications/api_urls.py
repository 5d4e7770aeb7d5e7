"""REST API of notifications (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path

from notifications import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("messages/attention/", api.MessagesNeedingAttentionView.as_view(), name="api_messages_attention"),
    path("messages/<int:message_id>/resend/", api.MessageResendView.as_view(), name="api_message_resend"),
    path("messages/opt-outs/", api.SmsOptOutsView.as_view(), name="api_sms_opt_outs"),
    path("messages/opt-outs/<str:phone>/", api.SmsOptOutView.as_view(), name="api_sms_opt_out"),
]
