"""REST API of cash custody (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path

from core_banking.cash import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("cash/holders/", api.HolderListView.as_view(), name="api_cash_holders"),
    path("cash/holders/me/", api.MyAccountView.as_view(), name="api_cash_my_account"),
    path("cash/handovers/", api.HandoverListView.as_view(), name="api_cash_handovers"),
    path("cash/handovers/<int:handover_id>/", api.HandoverDetailView.as_view(), name="api_cash_handover"),
    path(
        "cash/handovers/<int:handover_id>/confirm/",
        api.HandoverConfirmView.as_view(),
        name="api_cash_handover_confirm",
    ),
    path(
        "cash/handovers/<int:handover_id>/reject/",
        api.HandoverRejectView.as_view(),
        name="api_cash_handover_reject",
    ),
    path(
        "cash/handovers/<int:handover_id>/cancel/",
        api.HandoverCancelView.as_view(),
        name="api_cash_handover_cancel",
    ),
    path("cash/denominations/", api.DenominationListView.as_view(), name="api_cash_denominations"),
    path("cash/day-closes/", api.DayCloseListView.as_view(), name="api_cash_day_closes"),
]
