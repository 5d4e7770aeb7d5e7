"""Staff pages of cash custody (mounted at /cash/)."""

from django.urls import URLPattern, URLResolver, path

from core_banking.cash import views

app_name = "cash"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.cash_index, name="index"),
    path("handovers/new/", views.handover_send, name="send"),
    path("handovers/<int:handover_id>/confirm/", views.handover_confirm, name="confirm"),
    path("handovers/<int:handover_id>/reject/", views.handover_reject, name="reject"),
    path("handovers/<int:handover_id>/cancel/", views.handover_cancel, name="cancel"),
    path("close/", views.day_close, name="close"),
    path("closes/<int:close_id>/", views.close_detail, name="close_detail"),
]
