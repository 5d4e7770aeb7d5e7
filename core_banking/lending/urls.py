"""Staff pages of lending (mounted at /lending/)."""

from django.urls import URLPattern, URLResolver, path

from core_banking.lending import views

app_name = "lending"
urlpatterns: list[URLPattern | URLResolver] = [
    path("loans/", views.loan_list, name="loans"),
    path("loans/<int:loan_id>/", views.loan_detail, name="loan"),
    path("loans/<int:loan_id>/repay/", views.repay, name="repay"),
    path("loans/<int:loan_id>/payoff/", views.payoff_quote, name="payoff"),
    path(
        "loans/<int:loan_id>/transactions/<int:transaction_id>/reverse/",
        views.reverse_repayment,
        name="reverse",
    ),
    path("loans/<int:loan_id>/documents/<str:kind>/", views.loan_document, name="loan_document"),
    path("applications/", views.application_list, name="applications"),
    path("applications/new/", views.application_new, name="application_new"),
    path("applications/check/", views.application_check, name="application_check"),
    path("applications/<int:application_id>/", views.application_detail, name="application"),
    path("applications/<int:application_id>/decide/", views.application_decide, name="decide"),
    path("applications/<int:application_id>/resubmit/", views.application_resubmit, name="resubmit"),
    path("applications/<int:application_id>/withdraw/", views.application_withdraw, name="withdraw"),
    path("applications/<int:application_id>/disburse/", views.disburse, name="disburse"),
    path(
        "applications/<int:application_id>/documents/<str:kind>/",
        views.application_document,
        name="application_document",
    ),
    path("approvals/", views.approvals, name="approvals"),
    path("products/", views.product_list, name="products"),
    path("products/new/", views.product_create, name="product_create"),
    path("sub-types/new/", views.sub_type_create, name="sub_type_create"),
    path("products/<int:product_id>/", views.product_detail, name="product"),
    path("products/<int:product_id>/edit/", views.product_edit, name="product_edit"),
    path("approval-levels/", views.approval_levels, name="approval_levels"),
    path("members/<int:member_id>/documents/", views.member_documents, name="member_documents"),
    path(
        "members/<int:member_id>/interest-certificate/<int:year>/",
        views.interest_certificate,
        name="interest_certificate",
    ),
    path("documents/<str:subject>/<str:name>.pdf", views.stored_document, name="stored_document"),
    path("document-templates/", views.document_templates, name="document_templates"),
    path(
        "document-templates/<str:kind>/<str:language>/",
        views.document_template_edit,
        name="document_template",
    ),
    path(
        "document-templates/<str:kind>/<str:language>/check/",
        views.document_template_check,
        name="document_template_check",
    ),
    path(
        "document-templates/<str:kind>/<str:language>/preview/",
        views.document_template_preview,
        name="document_template_preview",
    ),
    path(
        "document-templates/<str:kind>/<str:language>/restore/",
        views.document_template_restore,
        name="document_template_restore",
    ),
]
