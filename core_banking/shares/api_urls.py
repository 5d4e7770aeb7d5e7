"""REST API of the shares module (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path

from core_banking.shares import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("share-settings/", api.ShareSettingsView.as_view(), name="api_share_settings"),
    path("members/<int:member_id>/shares/", api.MemberSharesView.as_view(), name="api_member_shares"),
    path(
        "members/<int:member_id>/shares/transactions/",
        api.MemberShareTransactionsView.as_view(),
        name="api_member_share_transactions",
    ),
    path(
        "members/<int:member_id>/shares/purchases/",
        api.SharePurchaseView.as_view(),
        name="api_member_share_purchases",
    ),
    path("members/<int:member_id>/exit/", api.MemberExitView.as_view(), name="api_member_exit"),
]
