"""REST API of the savings module (mounted under /api/v1/)."""

from django.urls import path

from core_banking.savings import api

urlpatterns = [
    path("savings/products/", api.ProductListView.as_view(), name="api_savings_products"),
    path("savings/products/<int:product_id>/", api.ProductDetailView.as_view(), name="api_savings_product"),
    path(
        "savings/products/<int:product_id>/rates/", api.ProductRatesView.as_view(), name="api_savings_rates"
    ),
    path("savings/accounts/", api.AccountListView.as_view(), name="api_savings_accounts"),
    path("savings/accounts/<int:account_id>/", api.AccountDetailView.as_view(), name="api_savings_account"),
    path(
        "savings/accounts/<int:account_id>/statement/",
        api.AccountStatementView.as_view(),
        name="api_savings_statement",
    ),
    path(
        "savings/accounts/<int:account_id>/deposits/", api.DepositView.as_view(), name="api_savings_deposit"
    ),
    path(
        "savings/accounts/<int:account_id>/withdrawals/",
        api.WithdrawalView.as_view(),
        name="api_savings_withdraw",
    ),
    path(
        "savings/accounts/<int:account_id>/close-early/",
        api.CloseEarlyView.as_view(),
        name="api_savings_close_early",
    ),
    path("savings/accounts/<int:account_id>/liens/", api.LienView.as_view(), name="api_savings_lien"),
    path(
        "savings/liens/<int:lien_id>/release/", api.LienReleaseView.as_view(), name="api_savings_lien_release"
    ),
    path("savings/transfers/", api.TransferView.as_view(), name="api_savings_transfer"),
    path(
        "savings/transactions/<int:transaction_id>/corrections/",
        api.CorrectionView.as_view(),
        name="api_savings_correct",
    ),
]
