"""Staff pages of the savings module (mounted at /savings/)."""

from django.urls import URLPattern, URLResolver, path

from core_banking.savings import views

app_name = "savings"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.account_list, name="accounts"),
    path("open/", views.account_open, name="open"),
    path("<int:account_id>/", views.account_detail, name="account"),
    path("<int:account_id>/statement/", views.account_statement, name="statement"),
    path("<int:account_id>/deposit/", views.deposit, name="deposit"),
    path("<int:account_id>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:account_id>/transfer/", views.transfer, name="transfer"),
    path("<int:account_id>/close-early/", views.close_early, name="close_early"),
    path("products/", views.product_list, name="products"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:product_id>/", views.product_detail, name="product"),
    path("products/<int:product_id>/edit/", views.product_edit, name="product_edit"),
]
