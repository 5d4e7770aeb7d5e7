"""REST API of the accounting module (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path

from core_banking.accounting import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("accounting/vouchers/", api.VoucherListView.as_view(), name="api_accounting_vouchers"),
    path(
        "accounting/vouchers/<int:voucher_id>/",
        api.VoucherDetailView.as_view(),
        name="api_accounting_voucher",
    ),
    path("accounting/entries/<int:entry_id>/", api.EntryDetailView.as_view(), name="api_accounting_entry"),
    path(
        "accounting/entries/<int:entry_id>/corrections/",
        api.EntryCorrectionView.as_view(),
        name="api_accounting_entry_correct",
    ),
    path("accounting/corrections/", api.CorrectionListView.as_view(), name="api_accounting_corrections"),
    path(
        "accounting/corrections/<int:correction_id>/approve/",
        api.CorrectionApproveView.as_view(),
        name="api_accounting_correction_approve",
    ),
    path(
        "accounting/corrections/<int:correction_id>/reject/",
        api.CorrectionRejectView.as_view(),
        name="api_accounting_correction_reject",
    ),
    path("accounting/day-closes/", api.DayCloseListView.as_view(), name="api_accounting_day_closes"),
    path("accounting/period-closes/", api.PeriodCloseListView.as_view(), name="api_accounting_period_closes"),
    path("accounting/year-end-closings/", api.YearEndListView.as_view(), name="api_accounting_year_end"),
    path("accounting/accounts/", api.AccountListView.as_view(), name="api_accounting_accounts"),
    path(
        "accounting/accounts/<int:account_id>/",
        api.AccountDetailView.as_view(),
        name="api_accounting_account",
    ),
    path("accounting/settings/", api.SettingsView.as_view(), name="api_accounting_settings"),
]
