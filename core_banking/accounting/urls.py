"""Staff pages of the accounting module (mounted at /accounting/)."""

from django.urls import URLPattern, URLResolver, path

from core_banking.accounting import views

app_name = "accounting"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("vouchers/new/<str:kind>/", views.voucher_create, name="voucher_create"),
    path("entries/<int:entry_id>/", views.entry_detail, name="entry"),
    path("entries/<int:entry_id>/correct/", views.correction_create, name="correct"),
    path("corrections/", views.correction_list, name="corrections"),
    path("corrections/<int:correction_id>/approve/", views.correction_approve, name="correction_approve"),
    path("corrections/<int:correction_id>/reject/", views.correction_reject, name="correction_reject"),
    path("ledger/", views.general_ledger, name="ledger"),
    path("closings/", views.closings, name="closings"),
    path("closings/day/", views.day_close, name="day_close"),
    path("closings/period/", views.period_close, name="period_close"),
    path("closings/year/", views.year_end_close, name="year_end_close"),
    path("settings/", views.settings_edit, name="settings"),
    path("accounts/", views.chart, name="chart"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/<int:account_id>/edit/", views.account_edit, name="account_edit"),
]
